"""Console tables as a pipe sees them: typed cells rendered, missing values as "-", text
printed as it is (never read as markup), timings of emulated boards left out."""

from __future__ import annotations

from dataclasses import replace

from edgebench.report import console
from edgebench.results import Status

from .conftest import _latency

FINGERPRINT = {"arch": "x86_64", "bits": 64, "cores": 2, "cpu_model": "Test CPU 9000",
               "isa_flags": ["avx2"], "governor": None}


def _rows(text: str, first: str) -> list[list[str]]:
    """The table rows whose first cell is ``first``, split into cells."""
    return [[cell.strip() for cell in line.strip("│┃ ").split("│")]
            for line in text.splitlines() if line.strip("│┃ ").startswith(first)]


def test_models_formats_numbers_and_shows_missing_ones_as_a_dash(capsys):
    console.models([
        {"name": "resnet18", "family": "resnet", "params_m": 11.6895, "gmacs": 1.8142,
         "resolution": 224, "ref_top1": 69.758},
        {"name": "mine", "family": "custom", "params_m": None, "gmacs": None, "resolution": 64,
         "ref_top1": None},
    ])
    out = capsys.readouterr().out
    assert "edgebench model zoo (2 models)" in out
    assert _rows(out, "resnet18") == [["resnet18", "resnet", "11.69", "1.814", "224", "69.76"]]
    assert _rows(out, "mine") == [["mine", "custom", "-", "-", "64", "-"]]
    assert max(len(line) for line in out.splitlines()) <= console.WIDE_COLUMNS


def test_mapping_prints_text_as_it_is(capsys):
    console.mapping({"name": "[bold]x[/bold]", "files": {"model": "a[1].onnx"}})
    assert capsys.readouterr().out.splitlines() == ["name: [bold]x[/bold]", "files:",
                                                    "  model: a[1].onnx"]


def test_latencies_keep_an_emulated_boards_timings_out_and_say_why(capsys):
    cells = [replace(_latency("resnet18", "fp32", "onnx", "onnxruntime", 2.0, 46.8),
                     fingerprint=FINGERPRINT),
             _latency("resnet18", "int8", "onnx", "onnxruntime", 9.0, 12.0, target="rpi4",
                      emulated=True),
             _latency("resnet18", "int8", "tflite", "tflite", None, 12.0, status=Status.LOAD_FAILED,
                      reason="not a TFLite flatbuffer")]
    console.latencies(cells)
    out = capsys.readouterr().out
    ok, emulated, failed = _rows(out, "resnet18/")
    assert ok[:9] == ["resnet18/onnx-fp32", "onnxruntime", "def", "1", "ok", "2.00", "2.20", "2.60",
                      "2.00"]
    assert emulated[4] == "ok" and emulated[5:10] == ["-"] * 5  # measured, but not a speed
    assert failed[4] == "load_failed"
    assert "device: Test CPU 9000 | x86_64 64-bit | 2 cores | ISA avx2 | governor -" in out
    assert "rpi4 is an emulated board: its timings are not speeds" in out
    assert "a/resnet18/tflite-int8 (tflite): load_failed: not a TFLite flatbuffer" in out


def test_progress_is_silent_when_stderr_is_not_a_terminal(capsys):
    with console.progress(2, "export") as step:
        step("onnx")
        step("tflite")
    with console.counter("eval") as count:
        count(1, 2, "batch")
    assert capsys.readouterr() == ("", "")
