"""onnx2tf, the second TFLite converter: its own environment (made on first use, then reused),
FP32 and INT8 artifacts beside the default converter's, and the converter carried into the
cell key, the bench results and the report."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from edgebench.artifacts import read
from edgebench.export import run as export
from edgebench.export.onnx2tf import environment
from edgebench.formats import ONNX2TF_VERSION
from edgebench.envs import READY

pytestmark = [pytest.mark.slow, pytest.mark.network]


@pytest.fixture(scope="module")
def made(fm_exports):
    """The checkpoint's TFLite FP32 and INT8 by both converters: {folder name: cell}. The
    default converter's are the session's export set; onnx2tf's join them in the same folder,
    named relative to the working directory (onnx2tf runs in a folder of its own: a relative
    path must still reach the files)."""
    out = Path(os.path.relpath(fm_exports.request.out_dir))
    request = replace(fm_exports.request, formats=("tflite",), converter="onnx2tf", out_dir=out)
    cells = [c for c in fm_exports.cells.values() if c.format == "tflite"] + export(request)
    return {Path(c.path).name: c for c in cells}


def test_both_precisions_are_made_and_validated_beside_the_default_converters(made, fm_exports):
    assert set(made) == {"tflite-fp32", "tflite-int8", "tflite-fp32-onnx2tf", "tflite-int8-onnx2tf"}
    fp32, int8 = made["tflite-fp32-onnx2tf"], made["tflite-int8-onnx2tf"]
    assert fp32.status.value == "ok", fp32.reason  # the same function as PyTorch
    assert int8.status.value in ("ok", "degraded") and int8.validation.top1_agreement >= 0.9, int8.reason
    assert int8.key != made["tflite-int8"].key  # another cell
    m = read(Path(int8.path)).manifest
    assert m.converter == "onnx2tf" and m.conversion.converter_environment == {"onnx2tf": ONNX2TF_VERSION}
    assert m.tools["onnx2tf"] == ONNX2TF_VERSION  # the pin keys the cache and the cell
    # the input keeps the export's NCHW layout; INT8 is full integer like the default converter's
    assert m.input.shape == (1, 3, 32, 32) and m.input.dtype == "int8"
    assert m.quantization.tool == "onnx2tf" and m.quantization.samples == int(fm_exports.request.calib.rsplit(":", 1)[1])
    assert read(Path(made["tflite-int8"].path)).manifest.converter is None  # the format's own
    assert int8.converter == "onnx2tf" and made["tflite-int8"].converter is None


def test_its_environment_is_made_once_and_reused(made):
    """The exports above made it; asking again reuses it, and a half-made one (no ready mark)
    would be made again."""
    folder = environment()
    stamp = (folder / READY).stat().st_mtime_ns
    assert environment() == folder and (folder / READY).stat().st_mtime_ns == stamp
    assert (folder / READY).read_text().strip() == f"onnx2tf=={ONNX2TF_VERSION}"
    assert (folder / "bin" / "python").is_file()


def test_bench_and_report_carry_the_converter(made, run_cli, tmp_path):
    store = tmp_path / "r.db"
    folders = [made["tflite-int8"].path, made["tflite-int8-onnx2tf"].path]
    code, out, err = run_cli("bench", *folders, "--min-runs", 5, "--min-seconds", 0, "--warmup", 1,
                             "--store", store, "--json")
    assert code == 0, err
    code, out, err = run_cli("report", "--store", store, "--json", "-")
    assert code == 0, err
    rows = json.loads(out)["cells"]
    assert sorted((r["converter"] or "") for r in rows) == ["", "onnx2tf"]
    assert all(r["status"] == "ok" and r["p50_ms"] > 0 for r in rows)


def test_a_sweep_measures_both_converters_side_by_side(made, fm_exports, tmp_path, run_cli):
    """converters = ["default", "onnx2tf"]: TFLite INT8 by each, two cells, both in the report.
    The sweep asks for the session's export (same weights, calibration, validation, folder), so
    its exports are cache hits: the sweep's own work is measured here, not onnx2tf again."""
    request = fm_exports.request
    config = tmp_path / "c.toml"
    config.write_text("\n".join([
        'models = ["resnet18"]', 'formats = ["tflite"]', 'precisions = ["fp32", "int8"]',
        'converters = ["default", "onnx2tf"]', f"weights = {json.dumps(request.weights)}",
        f"calib = {json.dumps(request.calib)}", f"validate_samples = {request.validate_samples}",
        "warmup_runs = 1", "min_runs = 3", "min_seconds = 0.0",
        f"out = {json.dumps(str(request.out_dir))}",
        f"store = {json.dumps(str(tmp_path / 'c.db'))}", ""]))
    code, out, err = run_cli("sweep", config, "--json")
    assert code == 0, err
    exported = [r for r in json.loads(out)["measured"] if r["kind"] == "export"]
    assert len(exported) == 4 and all(r["cached"] for r in exported), exported
    measured = [r for r in json.loads(out)["measured"] if r["kind"] == "latency"]
    assert sorted((r["precision"], r["converter"] or "") for r in measured) == [
        ("fp32", ""), ("fp32", "onnx2tf"), ("int8", ""), ("int8", "onnx2tf")]
    assert all(r["status"] == "ok" for r in measured), [r["reason"] for r in measured]
    code, out, _ = run_cli("report", "--store", tmp_path / "c.db", "--json", "-")
    cells = json.loads(out)["cells"]
    onnx2tf_int8 = next(c for c in cells if c["converter"] == "onnx2tf" and c["precision"] == "int8")
    assert onnx2tf_int8["speedup_vs_fp32"] > 0  # against onnx2tf's own FP32


def test_diff_matches_its_tensors_by_execution_order(made):
    """onnx2tf keeps no module names: diff matches by order and shape, and FP32 still
    matches PyTorch module by module, like the default converter's file."""
    from edgebench.layerwise import DiffRequest, run as diff

    mine = diff(DiffRequest(made["tflite-fp32-onnx2tf"].path, samples=4))
    theirs = diff(DiffRequest(made["tflite-fp32"].path, samples=4))
    assert [r.module for r in mine.rows] == [r.module for r in theirs.rows if r.module in
                                             {m.module for m in mine.rows}]
    assert len(mine.rows) >= 12 and mine.rows[-1].module == "fc"
    assert all(r.cosine > 0.99999 for r in mine.rows)
    int8 = diff(DiffRequest(made["tflite-int8-onnx2tf"].path, samples=4))
    assert [r.module for r in int8.rows] == [r.module for r in mine.rows]
    assert all(r.psnr_db < 80 for r in int8.rows)
