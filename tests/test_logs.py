"""Third-party noise goes to the log file, edgebench's own lines to the console, in a real
process whose descriptor 2 is the terminal's (an in-process runner would not show it)."""

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from edgebench import logs

SCRIPT = textwrap.dedent("""
    import logging, os, sys, warnings
    from edgebench import logs
    with logs.quiet(verbose=sys.argv[1] == "verbose"):
        os.write(2, b"C++ noise on fd 2\\n")
        logging.getLogger("onnxruntime").warning("a runtime's logger")
        print("edgebench's own line", file=logs.user_stderr())
    print("after", file=sys.stderr)
""")


def _run(tmp_path, mode):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          env=env, timeout=120)


def test_noise_goes_to_the_log_file_and_own_lines_to_the_console(tmp_path):
    done = _run(tmp_path, "quiet")
    assert done.returncode == 0, done.stderr
    assert "edgebench's own line" in done.stderr and "after" in done.stderr
    assert "C++ noise" not in done.stderr and "a runtime's logger" not in done.stderr
    log = (tmp_path / "edgebench" / "logs" / "last-command.log").read_text()
    assert "C++ noise on fd 2" in log


def test_verbose_leaves_everything_on_the_console(tmp_path):
    done = _run(tmp_path, "verbose")
    assert "C++ noise on fd 2" in done.stderr and "edgebench's own line" in done.stderr
    assert not (tmp_path / "edgebench" / "logs" / "last-command.log").exists()


@pytest.mark.parametrize("name", logs.QUIET_LOGGERS)
def test_each_quiet_logger_is_raised_to_errors(name, monkeypatch):
    logger = logging.getLogger(name)
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    with logs.quiet():
        assert logger.level == logging.ERROR
