"""The Python API: the README's example as it stands there, and what the API promises."""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import edgebench
from edgebench import errors
from edgebench.results import ExportCell, LatencyCell, Status

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The first Python block of the README's "Python API" section."""
    section = README.read_text().split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_the_readme_example_runs_and_returns_typed_records(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its temporary folder: the test's
    scope: dict = {}
    exec(compile(readme_example(), str(README), "exec"), scope)
    onnx, cells, stored = scope["onnx"], scope["cells"], scope["stored"]
    assert isinstance(onnx, ExportCell) and onnx.status == Status.OK and onnx.format == "onnx"
    assert Path(onnx.path).is_relative_to(tmp_path) and onnx.validation.samples == 16
    assert [type(c) for c in cells] == [LatencyCell] and cells[0].status == Status.OK
    assert cells[0].latency.runs >= 5 and cells[0].latency.p50_ms > 0
    assert [c.key for c in stored] == [cells[0].key] and isinstance(stored[0], LatencyCell)
    assert stored[0].latency.p50_ms == cells[0].latency.p50_ms
    assert "p50" in capsys.readouterr().out  # the example's own prints, nothing else asked


def test_the_api_names_are_callable_and_their_modules_still_modules():
    import edgebench.export.pipeline  # noqa: F401  (binds the package as an attribute)

    for name in edgebench.CALLABLE_MODULES:
        module = getattr(edgebench, name)
        assert callable(module) and module.__name__ == f"edgebench.{name}"
    assert edgebench.export.ExportRequest is edgebench.export.pipeline.ExportRequest
    assert [r["name"] for r in edgebench.models("resnet1*")] == ["resnet18", "resnet101",
                                                                 "resnet152"]


def test_importing_edgebench_imports_no_framework():
    code = ("import sys, edgebench\n"
            "edgebench.export, edgebench.bench, edgebench.report, edgebench.Store\n"
            "heavy = [m for m in ('torch', 'onnx', 'onnxruntime', 'openvino') if m in sys.modules]\n"
            "sys.exit(f'heavy imports: {heavy}' if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_a_request_and_keywords_together_are_refused():
    from edgebench.export import ExportRequest

    with pytest.raises(errors.UserInputError, match="not both"):
        edgebench.export(ExportRequest("resnet18"), weights="random")
    with pytest.raises(errors.UserInputError, match="no field resolutoin"):
        edgebench.export("resnet18", resolutoin=64)


def test_export_request_is_built_as_the_command_builds_it():
    request = edgebench.export_request("resnet18", precisions=("int8",))
    assert request.precisions == ("fp32", "int8") and not request.explicit_formats
    assert request.formats == ("onnx", "openvino", "tflite")
    assert edgebench.export_request("resnet18", formats=("tflite",)).explicit_formats
    with pytest.raises(errors.UserInputError, match="unknown format"):
        edgebench.export_request("resnet18", formats=("tflitee",))


def test_bench_request_takes_the_settings_flat():
    request = edgebench.bench_request("a/onnx-fp32", threads=2, min_runs=7, timeout_s=5.0)
    assert request.artifacts == ("a/onnx-fp32",) and request.settings.threads == 2
    assert request.harness.min_runs == 7 and request.timeout_s == 5.0


def test_validate_needs_a_board():
    with pytest.raises(errors.UserInputError, match="name a board"):
        edgebench.validate("a/onnx-fp32", target="local")


def test_report_of_a_missing_store_is_a_typed_error(tmp_path):
    with pytest.raises(errors.UserInputError, match="no results store"):
        edgebench.report(tmp_path / "none.db")
