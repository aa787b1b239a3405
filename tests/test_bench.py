"""``edgebench bench`` end to end: every runtime, bad inputs, failing cells beside good ones."""

import json

import pytest

from edgebench import formats
from edgebench.bench import BenchRequest, Cell, plan
from edgebench.results import LatencyCell, Stage, Status
from edgebench.runtimes import RuntimeSettings
from edgebench.schema import SCHEMA_VERSION
from tests.helpers import assert_one_line_error

QUICK = ["--warmup", "1", "--min-runs", "3", "--min-seconds", "0"]


def test_every_runtime_that_loads_each_format(run_cli, small_artifacts):
    args = [small_artifacts[f] for f in ("onnx", "openvino", "tflite")]
    code, out, err = run_cli("bench", *args, "--threads", "2", "--json", *QUICK)
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["format"], r["runtime"]) for r in rows] == [
        ("onnx", "onnxruntime"), ("onnx", "openvino"), ("openvino", "openvino"), ("tflite", "tflite")]
    for r in rows:
        assert r["status"] == "ok" and r["settings"]["threads"] == 2 and r["size_bytes"] > 0
        assert r["model"] == "resnet18" and r["precision"] == "fp32"
        assert {"p50_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms", "min_ms", "max_ms"} <= set(r["latency"])
    executed = {r["runtime"]: r["settings_used"].get("executed_precision") for r in rows}
    assert executed["openvino"] == "fp32"  # what the compiled model reports, not what was asked


def test_console_table(run_cli, small_artifacts):
    code, out, _ = run_cli("bench", small_artifacts["onnx"], "--runtime", "onnxruntime", *QUICK)
    assert code == 0 and "onnxruntime" in out and "p50" in out and "device:" in out


def test_a_broken_cell_does_not_stop_the_others(run_cli, small_artifacts, tmp_path):
    broken = tmp_path / "broken.onnx"  # a bare file: nothing to check it against beforehand
    broken.write_bytes(b"not onnx")
    code, out, err = run_cli("bench", broken, small_artifacts["onnx"], "--runtime", "onnxruntime",
                             "--json", *QUICK)
    assert_one_line_error(code, err, "1 of 2 cells failed", "load_failed", expected_code=9)
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["load_failed", "ok"]


def test_runtime_that_cannot_load_the_format_is_unsupported_not_an_error(run_cli, small_artifacts):
    code, out, _ = run_cli("bench", small_artifacts["onnx"], "--runtime", "tflite", "--json", *QUICK)
    assert code == 0
    (row,) = json.loads(out)
    assert row["status"] == "unsupported" and "tflite does not load onnx" in row["reason"]


def test_torch_reference_from_an_artifact_manifest(run_cli, small_artifacts):
    code, out, err = run_cli("bench", small_artifacts["onnx"], "--runtime", "torch", "--threads", "1",
                             "--json", *QUICK)
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["status"] == "ok" and row["input_shape"] == [1, 3, 64, 64]


def test_static_batch_model_with_batch_4(run_cli, small_artifacts):
    code, out, err = run_cli("bench", small_artifacts["onnx"], "--runtime", "onnxruntime",
                             "--batch", "4", "--json", *QUICK)
    assert code == 9 and json.loads(out)[0]["status"] == "run_failed"


@pytest.mark.parametrize("args,needle", [
    (["--threads", "0"], "--threads must be a whole number from 1 to"),
    (["--batch", "0"], "--batch must be a whole number from 1 to 4096"),
    (["--timeout", "0"], "--timeout must be a number from 0.1"),
])
def test_bad_settings(run_cli, small_artifacts, args, needle):
    code, _, err = run_cli("bench", small_artifacts["onnx"], *args)
    assert_one_line_error(code, err, needle, expected_code=2)


def test_bad_artifacts(run_cli, tmp_path):
    code, _, err = run_cli("bench", tmp_path / "nope")
    assert_one_line_error(code, err, "does not exist", expected_code=2)
    (tmp_path / "weights.bin").write_bytes(b"x")
    code, _, err = run_cli("bench", tmp_path / "weights.bin")
    assert_one_line_error(code, err, "unknown model file type", expected_code=2)
    code, _, err = run_cli("bench", "zoo:resnet5")
    assert_one_line_error(code, err, "resnet50", expected_code=2)


def test_timeout_cell_as_subprocess(run_subprocess, small_artifacts):
    code, out, err = run_subprocess("bench", small_artifacts["onnx"], "--runtime", "onnxruntime",
                                    "--min-seconds", "60", "--timeout", "3", "--json")
    assert_one_line_error(code, err, "timeout", expected_code=9)
    assert json.loads(out)[0]["status"] == "timeout"


# ---- bench.plan: which cells run, which the table answers ---------------------------------

def test_plan_runs_every_runtime_that_loads_each_format(small_artifacts):
    cells = plan(BenchRequest(artifacts=tuple(str(small_artifacts[f]) for f in formats.FORMATS)))
    assert all(isinstance(c, Cell) for c in cells)
    assert [(c.source.model.format, c.runtime) for c in cells] == [
        (f, r) for f in formats.FORMATS for r in formats.FORMATS[f].runtimes]
    assert all(c.settings.precision is None for c in cells)  # files run their own precision


def test_plan_answers_unsupported_pairs_without_running_them(small_artifacts):
    (cell,) = plan(BenchRequest(artifacts=(str(small_artifacts["tflite"]),), runtime="onnxruntime"))
    assert isinstance(cell, LatencyCell) and cell.status == Status.UNSUPPORTED
    assert cell.stage == Stage.PLAN and "onnxruntime does not load tflite" in cell.reason


def test_plan_zoo_reference_and_torch_of_an_artifact(small_artifacts):
    request = BenchRequest(artifacts=("zoo:resnet18", str(small_artifacts["onnx"])), runtime="torch",
                           settings=RuntimeSettings(precision="fp16"))
    zoo_cell, artifact_cell = plan(request)
    assert zoo_cell.runtime == artifact_cell.runtime == "torch"
    assert zoo_cell.precision == "fp16" and zoo_cell.source.model_name == "resnet18"
    assert artifact_cell.source.model.resolution == 64


def test_cell_key_holds_the_settings_that_change_results():
    """compile and a non-default input size are in the key; at their defaults they are left
    out, so the keys of results stored before them stay the same."""
    from dataclasses import replace

    (plain,) = plan(BenchRequest(artifacts=("zoo:resnet18",), runtime="torch"))
    (compiled,) = plan(BenchRequest(artifacts=("zoo:resnet18",), runtime="torch",
                                    settings=RuntimeSettings(compile=True)))
    small = replace(plain, source=replace(plain.source, model=replace(plain.source.model, resolution=32)))
    keys = [c.key("local") for c in (plain, compiled, small)]
    assert "compile" not in keys[0].settings and "resolution" not in keys[0].settings
    assert keys[1].settings["compile"] is True and keys[2].settings["resolution"] == 32
    assert len({k.digest for k in keys}) == 3
    (onnx_cell,) = plan(BenchRequest(artifacts=("zoo:resnet18",), runtime="torch,onnxruntime",
                                     settings=RuntimeSettings(compile=True)))[1:]
    assert onnx_cell.settings.compile is False  # --compile is torch's alone


def test_cell_key_ignores_the_path_typed(small_artifacts, tmp_path, monkeypatch):
    """The same artifact reached by a relative path, an absolute path or its model file."""
    folder = small_artifacts["onnx"]
    monkeypatch.chdir(folder.parent)
    keys = set()
    for spec in (str(folder), folder.name, str(folder / "model.onnx"), f"./{folder.name}/"):
        (cell,) = plan(BenchRequest(artifacts=(spec,), runtime="onnxruntime"))
        keys.add(cell.key("local").digest)
    assert len(keys) == 1
    (other,) = plan(BenchRequest(artifacts=(str(folder),), runtime="onnxruntime",
                                 settings=RuntimeSettings(threads=1)))
    assert other.key("local").digest not in keys and other.key("pi5").digest != other.key("local").digest


def test_bench_json_rows_carry_the_cell_key(run_cli, small_artifacts):
    code, out, err = run_cli("bench", small_artifacts["onnx"], "--runtime", "onnxruntime",
                             "--json", *QUICK)
    assert code == 0, err
    (row,) = json.loads(out)
    (cell,) = plan(BenchRequest(artifacts=(str(small_artifacts["onnx"]),), runtime="onnxruntime"))
    assert row["key"] == cell.key("local").digest and row["schema_version"] == SCHEMA_VERSION
    assert LatencyCell.from_dict(row).latency.runs >= 3


@pytest.mark.parametrize("precision,executed,status", [
    ("fp16", "bf16", Status.DEGRADED),  # OpenVINO 2023.3 asked for f16 on an AMX CPU
    ("fp32", "bf16", Status.DEGRADED),
    ("int8", "int8 with bf16 float parts", Status.DEGRADED),
    ("fp16", "fp32", Status.OK),  # FP16 weights upcast where there is no FP16 compute
    ("fp16", "fp16", Status.OK), ("int8", "int8", Status.OK), ("fp32", None, Status.OK),
])
def test_a_run_in_another_precision_is_flagged_not_averaged_in(precision, executed, status):
    from edgebench.bench import _check_execution
    from edgebench.results import AgentReply

    reply = AgentReply(Status.OK, settings_used={"executed_precision": executed} if executed else {})
    checked = _check_execution(reply, precision)
    assert checked.status == status
    if status == Status.DEGRADED:
        assert f"ran {executed}, not the artifact's {precision}" in checked.reason
