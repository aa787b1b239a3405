"""The on-device agent: typed replies for everything it can see, numpy plus one runtime."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgebench import formats
from edgebench.agent import Job, main, run_job
from edgebench.bench import resolve
from edgebench.formats import RUNTIMES
from edgebench.harness import HarnessSettings
from edgebench.results import AgentReply, Stage, Status
from edgebench.runtimes import ModelRef, RuntimeSettings
from tests.helpers import torch_ref, validation_runtime

QUICK = HarnessSettings(warmup_runs=1, min_runs=3, min_seconds=0)
REPO = Path(__file__).resolve().parents[1]
FILE_FORMATS = tuple(formats.FORMATS)


def _job(ref, runtime, **settings):
    return Job(model=ref, runtime=runtime, settings=RuntimeSettings(**settings), harness=QUICK)


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_each_runtime_measures_its_format(small_artifacts, fmt):
    ref = resolve(str(small_artifacts[fmt])).model
    r = run_job(_job(ref, validation_runtime(fmt), threads=1))
    assert r.status == Status.OK, r.reason
    lat = r.latency
    assert lat.runs >= 3 and 0 < lat.min_ms <= lat.p50_ms <= lat.max_ms
    assert r.load_ms > 0 and r.first_inference_ms > 0 and r.peak_rss_mb > 10
    assert r.output_shape == (1, 1000) and r.throughput_ips > 0
    assert r.settings_used["runtime"] == validation_runtime(fmt)
    fp = r.fingerprint
    assert fp["arch"] and fp["cores"] >= 1 and fp["bits"] in (32, 64) and "numpy" in fp["versions"]


def test_tflite_xnnpack_setting_is_recorded(small_artifacts):
    ref = resolve(str(small_artifacts["tflite"])).model
    on = run_job(_job(ref, "tflite"))
    off = run_job(_job(ref, "tflite", xnnpack=False))
    assert on.settings_used["xnnpack"] is True and off.settings_used["xnnpack"] is False
    assert off.status == Status.OK


def test_torch_backend_on_cpu_and_gpu_request_without_gpu():
    ref = torch_ref("resnet18")
    r = run_job(_job(ref, "torch", threads=1, batch=2))
    assert r.status == Status.OK and r.output_shape == (2, 1000)
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the no-GPU message cannot be checked here")
    r = run_job(_job(ref, "torch", device="gpu"))
    assert r.status == Status.LOAD_FAILED and "no CUDA device" in r.reason and r.stage == Stage.LOAD


def test_torch_backend_imports_no_zoo():
    code = ("import sys, edgebench.runtimes.torch\n"
            "zoo = [m for m in sys.modules if m.startswith('edgebench.zoo')]\n"
            "sys.exit(f'imported {zoo}' if zoo else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.gpu
@pytest.mark.skipif("not __import__('torch').cuda.is_available()",
                    reason="needs an NVIDIA GPU (benchmarks/gpu_check.sh runs the GPU figures)")
def test_torch_backend_cuda_graphs_fp16():
    r = run_job(_job(torch_ref("resnet18"), "torch", device="gpu", precision="fp16", cuda_graphs=True))
    assert r.status == Status.OK and r.settings_used["cuda_graphs"] is True


# ---- outputs jobs: validation and accuracy run through these ------------------------------

@pytest.mark.parametrize("fmt", FILE_FORMATS)
@pytest.mark.parametrize("count", [1, 5])
def test_outputs_job_writes_every_sample_in_order(small_artifacts, tmp_path, fmt, count):
    ref = resolve(str(small_artifacts[fmt])).model
    x = np.random.default_rng(0).standard_normal((count, 3, 64, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    outputs = tmp_path / "y.npy"
    job = Job(model=ref, runtime=validation_runtime(fmt), kind="outputs",
              settings=RuntimeSettings(threads=1), inputs=str(tmp_path / "x.npy"),
              outputs=str(outputs))
    r = run_job(job)
    assert r.status == Status.OK and r.samples == count and r.outputs_path == str(outputs)
    assert r.load_ms > 0 and r.peak_rss_mb > 10 and r.output_shape == (count, 1000)
    y = np.load(outputs)
    # sample i's logits are the model's answer to input i: compare with a one-sample run
    np.save(tmp_path / "last.npy", x[-1:])
    last = run_job(Job(model=ref, runtime=job.runtime, kind="outputs", inputs=str(tmp_path / "last.npy"),
                       outputs=str(tmp_path / "last_y.npy"), settings=RuntimeSettings(threads=1)))
    assert last.status == Status.OK
    np.testing.assert_allclose(y[-1:], np.load(tmp_path / "last_y.npy"), rtol=1e-4, atol=1e-4)
    assert not list(tmp_path.glob("*.partial-*"))


def test_outputs_job_dynamic_batch_pads_the_last_chunk(tmp_path):
    """A dynamic-batch model is loaded once for a batch of 4 and fed 6 samples."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "double",
                              [x_info], [y_info], [two])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "double.onnx")
    x = np.arange(18, dtype=np.float32).reshape(6, 3)
    np.save(tmp_path / "x.npy", x)
    job = Job(model=ModelRef(path=str(tmp_path / "double.onnx"), format="onnx",
                             input_shape=("batch", 3)),
              runtime="onnxruntime", kind="outputs", settings=RuntimeSettings(batch=4),
              inputs=str(tmp_path / "x.npy"), outputs=str(tmp_path / "y.npz"), top_k=2)
    r = run_job(job)
    assert r.status == Status.OK and r.samples == 6
    with np.load(tmp_path / "y.npz") as top:
        np.testing.assert_array_equal(top["indices"], np.tile([2, 1], (6, 1)))
        np.testing.assert_array_equal(top["values"], x[:, [2, 1]] * 2)


def test_outputs_job_with_an_unreadable_input_file(small_artifacts, tmp_path):
    (tmp_path / "x.npy").write_bytes(b"not a tensor")
    job = Job(model=resolve(str(small_artifacts["onnx"])).model, runtime="onnxruntime",
              kind="outputs", inputs=str(tmp_path / "x.npy"), outputs=str(tmp_path / "y.npy"))
    r = run_job(job)
    assert r.status == Status.RUN_FAILED and "input tensor file" in r.reason
    assert not (tmp_path / "y.npy").exists()


@pytest.mark.parametrize("job,needle", [
    ({"model": {"path": None, "format": "onnx"}, "runtime": "null", "kind": "train"}, "job kind"),
    ({"model": {"path": None, "format": "onnx"}, "runtime": "null", "kind": "outputs"}, "paths"),
    ({"runtime": "null"}, "model"),
])
def test_malformed_jobs_get_a_typed_reply(monkeypatch, capsys, job, needle):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(job)))
    assert main() == 2
    reply = AgentReply.from_dict(json.loads(capsys.readouterr().out))
    assert reply.status == Status.LOAD_FAILED and needle in reply.reason


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("fmt", FILE_FORMATS)
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_model_files_are_load_failures(small_artifacts, tmp_path, fmt, damage):
    folder = _copy(small_artifacts[fmt], tmp_path / fmt)
    ref = resolve(str(folder)).model
    path = Path(ref.path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"\x13garbage" * 999)
    r = run_job(_job(ref, validation_runtime(fmt)))
    assert r.status == Status.LOAD_FAILED and r.stage == Stage.LOAD, r
    assert r.reason and "\n" not in r.reason


def test_onnx_file_named_tflite(small_artifacts, tmp_path):
    fake = tmp_path / "model.tflite"
    shutil.copy(small_artifacts["onnx"] / "model.onnx", fake)
    ref = resolve(str(fake)).model
    r = run_job(_job(ref, "tflite"))
    assert r.status == Status.LOAD_FAILED and "not a TFLite flatbuffer" in r.reason


@pytest.mark.parametrize("fmt", FILE_FORMATS)
def test_input_the_model_cannot_take(small_artifacts, fmt):
    ref = resolve(str(small_artifacts[fmt])).model
    wrong_size = ModelRef(**{**ref.to_dict(), "input_shape": (1, 3, 65, 31)})
    r = run_job(_job(wrong_size, validation_runtime(fmt)))
    assert r.status in (Status.RUN_FAILED, Status.LOAD_FAILED) and r.reason, r


def test_wrong_dtype_is_a_run_failure(small_artifacts):
    ref = resolve(str(small_artifacts["onnx"])).model
    r = run_job(Job(model=ref, runtime="onnxruntime", harness=QUICK, input_dtype="float64"))
    assert r.status == Status.RUN_FAILED and "rejected the input" in r.reason and r.stage == Stage.RUN


def test_unknown_runtime():
    r = run_job(Job(model=ModelRef(path=None, format="onnx"), runtime="tensorflow-js"))
    assert r.status == Status.LOAD_FAILED and "choose from" in r.reason


def test_agent_process_imports_no_torch_for_a_file_runtime(small_artifacts):
    ref = resolve(str(small_artifacts["onnx"])).model
    job = json.dumps(_job(ref, "onnxruntime").to_dict())
    code = ("import json, sys\nfrom edgebench.agent import Job, run_job\n"
            f"r = run_job(Job.from_dict(json.loads({job!r})))\n"
            "heavy = [m for m in ('torch', 'openvino', 'click', 'rich') if m in sys.modules]\n"
            "sys.exit(f'{r.status} {heavy}' if heavy or r.status != 'ok' else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-500:]


@pytest.fixture(scope="module")
def numpy_only_python(tmp_path_factory):
    """A fresh virtual environment holding numpy and nothing else: a bare board. Its numpy is
    this run's own (linked in, with the libraries its wheel ships), so no registry is needed."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    here = Path(np.__file__).resolve().parent.parent
    for name in ("numpy", "numpy.libs", *(p.name for p in here.glob("numpy-*.dist-info"))):
        if (here / name).exists():
            (site / name).symlink_to(here / name)
    return python


def _agent_in(python: Path, job: Job) -> AgentReply:
    proc = subprocess.run([str(python), "-m", "edgebench.agent"], input=json.dumps(job.to_dict()),
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-500:]
    return AgentReply.from_dict(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("runtime", [r for r in RUNTIMES if not RUNTIMES[r].any_format])
def test_missing_runtime_names_the_extra(numpy_only_python, small_artifacts, runtime):
    if RUNTIMES[runtime].reference:
        ref = torch_ref("resnet18")
    else:
        fmt = next(f for f in FILE_FORMATS if runtime in formats.FORMATS[f].runtimes)
        ref = resolve(str(small_artifacts[fmt])).model
    r = _agent_in(numpy_only_python, _job(ref, runtime))
    assert r.status == Status.LOAD_FAILED
    assert f"edgebench[{RUNTIMES[runtime].extra}]" in r.reason, r.reason


def test_agent_runs_on_numpy_alone(numpy_only_python):
    r = _agent_in(numpy_only_python, _job(ModelRef(path=None, format="none", input_shape=(1, 8)),
                                          "null"))
    assert r.status == Status.OK and r.latency.runs >= 3
