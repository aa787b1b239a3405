"""What the commands write: typed records as their dicts, a failed write as one typed error."""

import json

import pytest

from edgebench import errors
from edgebench.cli.output import output, plain, print_json
from edgebench.results import LatencyCell, Status


def test_records_inside_lists_and_dicts_print_as_their_dicts(capsys):
    cell = LatencyCell(label="a/onnx-fp32", model="resnet18", format="onnx", precision="fp32",
                       runtime="onnxruntime", target="local", status=Status.OK, reason="", key="k",
                       load_ms=float("nan"))
    assert plain({"run": 1, "measured": (cell,)}) == {"run": 1, "measured": [cell.to_dict()]}
    print_json({"measured": [cell]})
    printed = json.loads(capsys.readouterr().out)["measured"][0]
    assert printed["kind"] == "latency" and printed["load_ms"] is None  # strict JSON: no NaN


def test_a_failed_write_is_an_output_error():
    with pytest.raises(errors.OutputError, match="cannot write the results to standard output"):
        with output():
            raise BrokenPipeError(32, "Broken pipe")
