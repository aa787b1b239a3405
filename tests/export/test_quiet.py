"""captured_output (edgebench/export/_quiet.py): converters' chatter, from Python and from C
alike, kept out of our output and handed back as lines."""

import os
import sys

from edgebench.export._quiet import captured_output


def test_python_and_fd_level_output_are_captured_and_returned(capfd):
    with captured_output() as lines:
        print("from python")
        sys.stderr.write("python stderr\n")
        os.write(1, b"from the C side\n")
        os.write(2, b"C stderr\n")
        assert lines == []  # filled afterwards
    assert set(lines) == {"from python", "python stderr", "from the C side", "C stderr"}
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    print("after")  # the streams are ours again
    assert capfd.readouterr().out == "after\n"


def test_the_streams_come_back_when_the_converter_raises(capfd):
    try:
        with captured_output() as lines:
            os.write(2, b"last words\n")
            raise RuntimeError("converter failed")
    except RuntimeError:
        pass
    assert lines == ["last words"]
    os.write(1, b"visible\n")
    assert capfd.readouterr().out == "visible\n"
