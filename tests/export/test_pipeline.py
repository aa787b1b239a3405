"""Export validation runs each artifact in its own agent process: a crash costs one cell."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, children

ARGS = ["export", "resnet18", "--int8", "--weights", "random", "--resolution", "64",
        "--calib", "fashion-mnist:32", "--validate-samples", "300", "--json"]


def _maps(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def _kill_agent_validating(proc: subprocess.Popen, needle: str, timeout_s: float = 600) -> int:
    """SIGKILL the host's child process that has ``needle`` (a staged artifact) mapped."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        for child in children(proc.pid):
            if needle in _maps(child):
                os.kill(child, signal.SIGKILL)
                return child
        time.sleep(0.01)
    raise AssertionError(f"no agent validating {needle} was seen")


@pytest.mark.slow
def test_sigkill_of_one_validation_costs_only_that_artifact(tmp_path):
    out, scratch = tmp_path / "art", tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    argv = [sys.executable, "-m", "edgebench", *ARGS, "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killed = _kill_agent_validating(proc, "staging-tflite-int8")
    stdout, stderr = proc.communicate(timeout=600)
    assert killed != proc.pid
    assert_one_line_error(proc.returncode, stderr, "tflite-int8", "SIGKILL", expected_code=9)
    cells = {c["format"] + "-" + c["precision"]: c for c in json.loads(stdout)}
    crashed = cells.pop("tflite-int8")
    assert crashed["status"] == "crashed" and crashed["signal"] == "SIGKILL"
    assert crashed["stage"] == "validate" and crashed["path"] is None
    assert len(cells) == 5 and all(c["status"] in ("ok", "degraded") for c in cells.values()), cells
    # nothing half-written: no staging folder, no artifact for the crashed cell, no scratch files
    assert not list(out.rglob(".staging-*")) and not (out / "resnet18" / "tflite-int8").exists()
    assert not list(scratch.glob("edgebench-*"))  # the converters keep caches of their own there

    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode in (0, 3), again.stderr
    redo = {c["format"] + "-" + c["precision"]: c for c in json.loads(again.stdout)}
    assert [k for k, c in redo.items() if not c["cached"]] == ["tflite-int8"]
    assert redo["tflite-int8"]["status"] in ("ok", "degraded")
    assert {k: redo[k]["status"] for k in cells} == {k: c["status"] for k, c in cells.items()}
