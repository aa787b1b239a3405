"""FP16, BF16 and INT8 in every format: calibration, validation, manifests, the command."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image

from edgebench import zoo
from edgebench.agent import Job, run_job
from edgebench.bench import resolve
from edgebench.data.photos import NATURAL, photo_paths
from edgebench.export import ExportRequest, run
from edgebench.formats import FORMATS, RUNTIMES
from edgebench.harness import HarnessSettings
from edgebench.runtimes import RuntimeSettings, infer
from edgebench.zoo.weights import build_model
from edgebench.zoo.weights import resolve as resolve_weights
from tests.helpers import assert_one_line_error, validation_runtime

VALIDATION = 40


def _cpu_runs_bf16() -> bool:
    """OpenVINO runs bf16 only where the CPU has bf16 instructions (AVX-512 BF16, AMX);
    elsewhere the bf16 IR is made but refused at load, with the reason."""
    import openvino as ov

    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def _assert_bf16_refused(status, reason: str) -> None:
    assert status == "load_failed" and "OpenVINO CPU cannot run bf16" in reason, (status, reason)


@pytest.fixture(scope="module")
def quantised(tmp_path_factory):
    out = tmp_path_factory.mktemp("q")
    request = ExportRequest(model="resnet18", weights="random", resolution=64, out_dir=out,
                            precisions=("fp32", "fp16", "bf16", "int8"), calib="fashion-mnist:32",
                            validate_samples=VALIDATION, explicit_formats=False)
    return request, {r.label: r for r in run(request)}


def test_every_supported_cell_is_made_and_the_rest_is_unsupported(quantised):
    _, results = quantised
    made = {k for k, r in results.items() if r.artifact}
    assert made == {"onnx-fp32", "onnx-fp16", "onnx-int8", "openvino-fp32", "openvino-fp16",
                    "openvino-bf16", "openvino-int8", "tflite-fp32", "tflite-fp16", "tflite-int8"}
    assert results["onnx-bf16"].status == results["tflite-bf16"].status == "unsupported"
    for key in made:
        # random weights with a trained model's activation scale: 1000 near-tied classes, so
        # INT8 and bf16 may flip a few top-1s (bf16: 95% here); FP32 and FP16 may not
        if key == "openvino-bf16" and not _cpu_runs_bf16():
            _assert_bf16_refused(results[key].status, results[key].reason)
            continue
        expected = ("ok", "degraded") if key.endswith(("int8", "bf16")) else ("ok",)
        assert results[key].status in expected, (key, results[key].reason)


@pytest.mark.parametrize("fmt", FORMATS)
def test_int8_manifest_and_size(quantised, fmt):
    _, results = quantised
    fp32, int8 = results[f"{fmt}-fp32"].artifact.manifest, results[f"{fmt}-int8"].artifact.manifest
    assert int8.calibration == "fashion-mnist:train [0:32]"
    assert int8.quantization.samples == 32
    assert int8.size_bytes <= 0.30 * fp32.size_bytes
    v = int8.validation
    assert v.samples == VALIDATION and "fashion-mnist:test" in v.inputs
    assert v.tolerance.min_top1_agreement == 0.98


@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_onnx_files_import_only_the_opsets_their_nodes_use(quantised, precision):
    """The quantiser stamps ai.onnx.ml v5 and others that no node uses; onnxruntime before
    1.18 refuses such a file (tests/test_envs.py loads them in 1.16.3)."""
    import onnx

    _, results = quantised
    art = results[f"onnx-{precision}"].artifact
    model = onnx.load(str(art.model_file))
    imported = {o.domain for o in model.opset_import}
    assert imported <= {n.domain for n in model.graph.node} | {""}
    assert "ai.onnx.ml" not in imported
    assert art.manifest.conversion.opset_imports == {o.domain or "ai.onnx": o.version
                                                     for o in model.opset_import}


@pytest.mark.parametrize("fmt,oldest", [
    ("onnx", {"onnxruntime": "1.16.3", "openvino": "2023.3.0"}),
    ("openvino", {"openvino": "2024.0.0"}),  # before 2024.0: MaxPool from opset14 is unknown
    ("tflite", {"tflite-runtime": "2.14.0", "ai-edge-litert": "2.3.0"}),
])
def test_manifests_name_the_oldest_runtimes_seen_to_load_them(quantised, fmt, oldest):
    _, results = quantised
    for precision in ("fp32", "fp16", "int8"):
        assert results[f"{fmt}-{precision}"].artifact.manifest.known_to_load == oldest


def test_fp16_halves_the_file(quantised):
    _, results = quantised
    for fmt in FORMATS:
        ratio = results[f"{fmt}-fp16"].artifact.manifest.size_bytes / \
            results[f"{fmt}-fp32"].artifact.manifest.size_bytes
        assert 0.45 < ratio < 0.6, (fmt, ratio)


def test_tflite_int8_records_its_io_quantisation_and_the_agent_feeds_it(quantised):
    _, results = quantised
    m = results["tflite-int8"].artifact.manifest
    q = m.quantization
    assert m.input.dtype == "int8" and q.input.dtype == "int8" and q.input.scale > 0
    ref = resolve(str(results["tflite-int8"].artifact.path)).model
    r = run_job(Job(model=ref, runtime="tflite", harness=HarnessSettings(1, 3, 0)))
    assert r.status == "ok" and r.settings_used["input_dtype"] == "int8"


@pytest.mark.parametrize("key", ["onnx-int8", "openvino-int8", "openvino-fp16", "openvino-bf16",
                                 "onnx-fp16", "tflite-fp16"])
def test_derived_artifacts_run_in_the_agent(quantised, key):
    _, results = quantised
    ref = resolve(str(results[key].artifact.path)).model
    r = run_job(Job(model=ref, runtime=validation_runtime(key.split("-")[0]),
                    harness=HarnessSettings(1, 3, 0)))
    if key == "openvino-bf16" and not _cpu_runs_bf16():
        return _assert_bf16_refused(r.status, r.reason)
    assert r.status == "ok", r.reason
    if key == "openvino-bf16":
        assert r.settings_used["inference_precision_hint"] == "bf16"


def test_second_run_is_all_cache_hits(quantised):
    request, first = quantised
    again = run(request)
    assert all(r.cached for r in again if r.artifact)
    assert {r.label: r.status for r in again} == {k: r.status for k, r in first.items()}


def test_degraded_int8_has_its_own_exit_code(run_cli, tmp_path):
    # random weights: 1000 near-tied classes, so naive INT8 keeps only ~78% of ResNet-18's top-1s
    args = ["export", "resnet18", "--weights", "random", "--resolution", "64", "--formats",
            "onnx", "--int8", "--calib", "fashion-mnist:32", "--validate-samples", str(VALIDATION),
            "--out", tmp_path]
    code, out, err = run_cli(*args)
    assert_one_line_error(code, err, "onnx-int8: degraded", "top-1 agreement", expected_code=3)
    manifest = json.loads((tmp_path / "resnet18" / "onnx-int8" / "manifest.json").read_text())
    assert manifest["validation"]["outcome"] == "degraded" and "degraded" in out
    code, _, err = run_cli(*args, "--min-top1-agreement", "0.6")  # configurable floor
    assert code == 0, err


@pytest.mark.slow
def test_real_weights_keep_their_predictions_on_real_photos(tmp_path):
    """efficientnet_lite0's ImageNet weights: FP32/FP16 predict PyTorch's class on every
    natural photo; INT8 keeps it in its top 3. Calibrated on real photos (in-domain)."""
    calib = tmp_path / "calib"
    calib.mkdir()
    natural = [p for p in photo_paths() if p.stem in NATURAL]
    for p in photo_paths():
        (calib / p.name).write_bytes(p.read_bytes())
    results = run(ExportRequest(model="efficientnet_lite0", weights="imagenet", out_dir=tmp_path,
                                precisions=("fp32", "fp16", "int8"), calib=str(calib),
                                validate_samples=16))
    entry = zoo.get("efficientnet_lite0")
    model = build_model(entry, resolve_weights(entry, "imagenet"), 224)
    for photo in natural:
        with Image.open(photo) as image:
            x = entry.preprocess(image)[None]
        with torch.no_grad():
            expected = int(model(torch.from_numpy(x)).argmax())
        for r in results:
            ref = resolve(str(r.artifact.path)).model
            session = RUNTIMES[validation_runtime(r.format)].load_backend().load(ref, RuntimeSettings())
            logits = infer(session, x)[0]
            if r.precision == "int8":
                assert expected in np.argsort(logits)[-3:], (photo.stem, r.label)
            else:
                assert int(logits.argmax()) == expected, (photo.stem, r.label)


def test_unsupported_pair_asked_for_explicitly(run_cli, tmp_path):
    code, _, err = run_cli("export", "resnet18", "--weights", "random", "--formats", "onnx",
                           "--bf16", "--out", tmp_path)
    assert_one_line_error(code, err, "onnx bf16 is not supported", "openvino", expected_code=2)


@pytest.mark.parametrize("make,needle", [(lambda p: p.mkdir(), "no readable images"),
                                         (lambda p: None, "does not exist")])
def test_empty_or_missing_calibration_folder(run_cli, tmp_path, make, needle):
    folder = tmp_path / "calib"
    make(folder)
    code, _, err = run_cli("export", "resnet18", "--weights", "random", "--formats", "onnx",
                           "--int8", "--calib", folder, "--out", tmp_path / "out")
    assert_one_line_error(code, err, needle, expected_code=2)
    assert not list((tmp_path / "out").rglob("manifest.json"))


def test_unreadable_and_too_few_images_warn_and_go_on(run_cli, tmp_path):
    folder = tmp_path / "calib"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    code, out, err = run_cli("export", "resnet18", "--weights", "random", "--resolution", "64",
                             "--formats", "onnx", "--int8", "--calib", f"{folder}:10",
                             "--validate-samples", "16", "--min-top1-agreement", "0", "--out",
                             tmp_path / "out", "--json")
    assert code == 0, err
    assert "skipped 1 unreadable" in err and "asked for 10 calibration samples" in err
    assert json.loads(out)[1]["precision"] == "int8"


def test_random_calibration_needs_asking_and_warns(run_cli, tmp_path):
    code, _, err = run_cli("export", "resnet18", "--weights", "random", "--resolution", "64",
                           "--formats", "onnx", "--int8", "--calib", "random:8", "--validate-samples",
                           "16", "--min-top1-agreement", "0", "--out", tmp_path)
    assert code == 0 and "random noise" in err and "accuracy will suffer" in err


def _cli(*args):
    return [sys.executable, "-m", "edgebench", *map(str, args)]


def test_disk_full_mid_export_leaves_nothing_marked_valid(tmp_path):
    import resource

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (4_000_000, 4_000_000))

    proc = subprocess.run(_cli("export", "resnet18", "--weights", "random", "--formats", "onnx",
                               "--validate-samples", "8", "--out", tmp_path),
                          capture_output=True, text=True, preexec_fn=limit_file_size, timeout=600)
    assert_one_line_error(proc.returncode, proc.stderr, "resnet18")
    assert proc.returncode in (7, 8)
    assert not list(tmp_path.rglob("manifest.json")) and not list(tmp_path.rglob(".staging-*"))


@pytest.mark.slow
def test_ctrl_c_mid_export_then_a_clean_rerun(tmp_path):
    args = _cli("export", "resnet18", "--weights", "random", "--formats", "onnx,openvino",
                "--validate-samples", "16", "--out", tmp_path)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.rglob(".staging-*")):
        time.sleep(0.05)  # interrupt while an artifact is being written
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert_one_line_error(proc.returncode, err, "interrupted", expected_code=130)
    assert not list(tmp_path.rglob(".staging-*"))
    done = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=600,
                          env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in json.loads(done.stdout)] == ["ok", "ok"]


@pytest.mark.slow
def test_channels_last_inputs_in_every_format(tmp_path):
    results = run(ExportRequest(model="resnet18", weights="random", resolution=64, layout="nhwc",
                                out_dir=tmp_path, validate_samples=16))
    for r in results:
        assert r.status == "ok", (r.label, r.reason)
        m = r.artifact.manifest
        assert m.input.shape[1:] == (64, 64, 3) and m.input.layout == "NHWC"
        ref = resolve(str(r.artifact.path)).model
        job = Job(model=ref, runtime=validation_runtime(r.format), harness=HarnessSettings(1, 3, 0))
        assert run_job(job).status == "ok"
