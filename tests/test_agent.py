"""The on-device agent: typed results for everything it can see, numpy plus one runtime."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgebench.agent import Job, run_job
from edgebench.bench import resolve
from edgebench.formats import RUNTIMES
from edgebench.harness import HarnessSettings
from edgebench.runtimes import ModelRef, RuntimeSettings

QUICK = HarnessSettings(warmup_runs=1, min_runs=3, min_seconds=0)
REPO = Path(__file__).resolve().parents[1]
FILE_RUNTIMES = {"onnx": "onnxruntime", "openvino": "openvino", "tflite": "tflite"}


def _job(ref, runtime, **settings):
    return Job(model=ref, runtime=runtime, settings=RuntimeSettings(**settings), harness=QUICK)


@pytest.mark.parametrize("fmt", FILE_RUNTIMES)
def test_each_runtime_measures_its_format(small_artifacts, fmt):
    ref, _, _ = resolve(str(small_artifacts[fmt]))
    r = run_job(_job(ref, FILE_RUNTIMES[fmt], threads=1))
    assert r["status"] == "ok", r["reason"]
    lat = r["latency"]
    assert lat["runs"] >= 3 and 0 < lat["min_ms"] <= lat["p50_ms"] <= lat["max_ms"]
    assert r["load_ms"] > 0 and r["first_inference_ms"] > 0 and r["peak_rss_mb"] > 10
    assert r["output_shape"] == [1, 1000] and r["throughput_ips"] > 0
    assert r["settings"]["threads"] == 1 and r["settings_used"]["runtime"] == FILE_RUNTIMES[fmt]
    fp = r["fingerprint"]
    assert fp["arch"] and fp["cores"] >= 1 and fp["bits"] in (32, 64) and "numpy" in fp["versions"]


def test_openvino_fp32_is_pinned_to_f32(small_artifacts):
    ref, _, _ = resolve(str(small_artifacts["openvino"]))
    r = run_job(_job(ref, "openvino", threads=2))
    assert r["settings_used"]["inference_precision_hint"] == "<Type: 'float32'>"
    assert r["settings_used"]["inference_num_threads"] == 2


def test_tflite_xnnpack_setting_is_recorded(small_artifacts):
    ref, _, _ = resolve(str(small_artifacts["tflite"]))
    on = run_job(_job(ref, "tflite"))
    off = run_job(_job(ref, "tflite", xnnpack=False))
    assert on["settings_used"]["xnnpack"] is True and off["settings_used"]["xnnpack"] is False
    assert off["status"] == "ok"


def test_torch_backend_on_cpu_and_gpu_request_without_gpu():
    ref, _, _ = resolve("zoo:resnet18")
    r = run_job(_job(ref, "torch", threads=1, batch=2))
    assert r["status"] == "ok" and r["output_shape"] == [2, 1000]
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the no-GPU message cannot be checked here")
    r = run_job(_job(ref, "torch", device="gpu"))
    assert r["status"] == "load_failed" and "no CUDA device" in r["reason"]


@pytest.mark.skipif("not __import__('torch').cuda.is_available()",
                    reason="needs an NVIDIA GPU (benchmarks/gpu_check.sh runs the GPU figures)")
def test_torch_backend_cuda_graphs_fp16():
    ref, _, _ = resolve("zoo:resnet18")
    r = run_job(_job(ref, "torch", device="gpu", precision="fp16", cuda_graphs=True))
    assert r["status"] == "ok" and r["settings_used"]["cuda_graphs"] is True


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("fmt", FILE_RUNTIMES)
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_model_files_are_load_failures(small_artifacts, tmp_path, fmt, damage):
    folder = _copy(small_artifacts[fmt], tmp_path / fmt)
    ref, _, _ = resolve(str(folder))
    path = Path(ref.path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"\x13garbage" * 999)
    r = run_job(_job(ref, FILE_RUNTIMES[fmt]))
    assert r["status"] == "load_failed", r
    assert r["reason"] and "\n" not in r["reason"]


def test_openvino_xml_without_its_bin(small_artifacts, tmp_path):
    folder = _copy(small_artifacts["openvino"], tmp_path / "ov")
    (folder / "model.bin").unlink()
    ref, _, _ = resolve(str(folder / "model.xml"))
    r = run_job(_job(ref, "openvino"))
    assert r["status"] == "load_failed" and "model.bin" in r["reason"]


def test_onnx_file_named_tflite(small_artifacts, tmp_path):
    fake = tmp_path / "model.tflite"
    shutil.copy(small_artifacts["onnx"] / "model.onnx", fake)
    ref, _, _ = resolve(str(fake))
    r = run_job(_job(ref, "tflite"))
    assert r["status"] == "load_failed" and "not a TFLite flatbuffer" in r["reason"]


@pytest.mark.parametrize("fmt", FILE_RUNTIMES)
def test_input_the_model_cannot_take(small_artifacts, fmt):
    ref, _, _ = resolve(str(small_artifacts[fmt]))
    wrong_size = ModelRef(**{**ref.to_dict(), "input_shape": (1, 3, 65, 31)})
    r = run_job(_job(wrong_size, FILE_RUNTIMES[fmt]))
    assert r["status"] in ("run_failed", "load_failed") and r["reason"], r


def test_wrong_dtype_is_a_run_failure(small_artifacts):
    ref, _, _ = resolve(str(small_artifacts["onnx"]))
    r = run_job(Job(model=ref, runtime="onnxruntime", harness=QUICK, input_dtype="float64"))
    assert r["status"] == "run_failed" and "rejected the input" in r["reason"]


def test_unknown_runtime():
    r = run_job(Job(model=ModelRef(path=None, format="onnx"), runtime="tensorflow-js"))
    assert r["status"] == "load_failed" and "choose from" in r["reason"]


def test_agent_process_imports_no_torch_for_a_file_runtime(small_artifacts):
    ref, _, _ = resolve(str(small_artifacts["onnx"]))
    job = json.dumps(_job(ref, "onnxruntime").to_dict())
    code = ("import json, sys\nfrom edgebench.agent import Job, run_job\n"
            f"r = run_job(Job.from_dict(json.loads({job!r})))\n"
            "heavy = [m for m in ('torch', 'openvino', 'click', 'rich') if m in sys.modules]\n"
            "sys.exit(f'{r[\"status\"]} {heavy}' if heavy or r['status'] != 'ok' else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-500:]


@pytest.fixture(scope="module")
def numpy_only_python(tmp_path_factory):
    """A fresh virtual environment holding numpy and nothing else: a bare board."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "numpy"], check=True, capture_output=True)
    return python


def _agent_in(python: Path, job: Job) -> dict:
    proc = subprocess.run([str(python), "-m", "edgebench.agent"], input=json.dumps(job.to_dict()),
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-500:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("runtime", [r for r in RUNTIMES if r != "null"])
def test_missing_runtime_names_the_extra(numpy_only_python, small_artifacts, runtime):
    fmt = next((f for f, r in FILE_RUNTIMES.items() if r == runtime), "onnx")
    ref, _, _ = resolve(str(small_artifacts[fmt]))
    if runtime == "torch":
        ref = ModelRef(path=None, format="torch", zoo_model="resnet18")
    r = _agent_in(numpy_only_python, _job(ref, runtime))
    assert r["status"] == "load_failed"
    assert f"edgebench[{RUNTIMES[runtime].extra}]" in r["reason"], r["reason"]


def test_agent_runs_on_numpy_alone(numpy_only_python):
    r = _agent_in(numpy_only_python, _job(ModelRef(path=None, format="none", input_shape=(1, 8)),
                                          "null"))
    assert r["status"] == "ok" and r["latency"]["runs"] >= 3
