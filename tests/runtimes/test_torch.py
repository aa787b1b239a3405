"""The torch backend's modes: eager, eager + CUDA graph and compiled (inductor) + CUDA graph."""

import numpy as np
import pytest
import torch

from edgebench.agent import Job, run_job
from edgebench.harness import HarnessSettings
from edgebench.results import Stage, Status
from edgebench.runtimes import TORCH_MODES, ModelRef, RuntimeSettings
from edgebench.runtimes.torch import COMPILE_MODE
from tests.helpers import torch_ref, needs_cxx

QUICK = HarnessSettings(warmup_runs=1, min_runs=3, min_seconds=0)
GPU = pytest.mark.skipif(not torch.cuda.is_available(),
                         reason="needs an NVIDIA GPU (benchmarks/gpu_check.sh runs the GPU figures)")


class DataDependent(torch.nn.Module):
    """Python control flow on a tensor's value: torch.compile(fullgraph=True) refuses it."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 10)

    def forward(self, x):
        pooled = x.mean((2, 3))
        if pooled.sum() > 0:
            return self.fc(pooled)
        return -self.fc(pooled)


def data_dependent() -> torch.nn.Module:
    return DataDependent()


@pytest.fixture
def compile_cache(tmp_path, monkeypatch):
    """A fresh edgebench cache folder, so the first compile here is a miss."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    return tmp_path / "cache" / "edgebench" / "torch-compile"


def test_modes_are_the_settings_the_backend_takes():
    for name, (compile_, graphs) in TORCH_MODES.items():
        settings = RuntimeSettings().with_torch_mode(name)
        assert (settings.compile, settings.cuda_graphs) == (compile_, graphs)
    assert RuntimeSettings().key_dict() == {k: v for k, v in RuntimeSettings().to_dict().items()
                                            if k != "compile"}
    assert RuntimeSettings(compile=True).key_dict()["compile"] is True


@pytest.mark.slow
@needs_cxx
def test_compiled_model_computes_the_eager_function(tmp_path, compile_cache):
    x = np.random.default_rng(3).standard_normal((2, 3, 32, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    outputs = {}
    for compile_ in (False, True):
        out = tmp_path / f"y{compile_}.npy"
        r = run_job(Job(model=torch_ref("resnet18", 32), runtime="torch", kind="outputs",
                        settings=RuntimeSettings(threads=2, batch=2, compile=compile_),
                        inputs=str(tmp_path / "x.npy"), outputs=str(out)))
        assert r.status == Status.OK, r.reason
        assert r.settings_used["mode"] == ("compiled" if compile_ else "eager")
        outputs[compile_] = np.load(out)
    used = r.settings_used["compile"]
    assert used["mode"] == COMPILE_MODE and used["freezing"] is True and used["cache"] == "miss"
    assert r.load_ms >= used["compile_ms"] > 0  # the compile is the cell's load time
    assert any(compile_cache.iterdir()), "inductor wrote nothing into edgebench's cache folder"
    np.testing.assert_allclose(outputs[True], outputs[False], rtol=1e-3, atol=1e-3)


# A compiled cell's second process finding the first's compile in the cache: the CPU run of
# benchmarks/gpu_check.sh asserts it (tests/benchmarks/test_gpu_check.py), the same cell twice.


def test_a_compile_failure_is_load_failed_with_the_compilers_first_line(tmp_path, compile_cache):
    torch.save(DataDependent().state_dict(), tmp_path / "none.pt")
    ref = ModelRef(path=str(tmp_path / "none.pt"), format="torch", resolution=8,
                   builder="tests.runtimes.test_torch:data_dependent")
    eager = run_job(Job(model=ref, runtime="torch", settings=RuntimeSettings(threads=1), harness=QUICK))
    assert eager.status == Status.OK, eager.reason  # the model itself runs
    r = run_job(Job(model=ref, runtime="torch", settings=RuntimeSettings(threads=1, compile=True),
                    harness=QUICK))
    assert r.status == Status.LOAD_FAILED and r.stage == Stage.LOAD
    assert r.reason.startswith(f"torch.compile ({COMPILE_MODE}) failed: ")
    assert "\n" not in r.reason and len(r.reason) > len(f"torch.compile ({COMPILE_MODE}) failed: ") + 10


@pytest.mark.gpu
@GPU
@pytest.mark.parametrize("mode", list(TORCH_MODES))
def test_each_mode_on_a_gpu_computes_the_same_function(tmp_path, mode):
    """ResNet-50 at 224 px, batch 1, FP16: the cell `benchmarks/gpu_check.sh` compiles, so the
    compiled case reuses its cache (else it compiles for minutes)."""
    x = np.random.default_rng(4).standard_normal((2, 3, 224, 224)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    ref = torch_ref("resnet50", 224)
    settings = RuntimeSettings(device="gpu", precision="fp16").with_torch_mode(mode)
    r = run_job(Job(model=ref, runtime="torch", kind="outputs", settings=settings,
                    inputs=str(tmp_path / "x.npy"), outputs=str(tmp_path / "y.npy")))
    assert r.status == Status.OK, r.reason
    assert r.settings_used["mode"] == mode and r.settings_used["cuda_graphs"] == TORCH_MODES[mode][1]
    fp32 = run_job(Job(model=ref, runtime="torch", kind="outputs",
                       settings=RuntimeSettings(device="gpu", channels_last=False, cuda_graphs=False),
                       inputs=str(tmp_path / "x.npy"), outputs=str(tmp_path / "ref.npy")))
    assert fp32.status == Status.OK, fp32.reason
    y, expected = np.load(tmp_path / "y.npy"), np.load(tmp_path / "ref.npy")
    assert np.linalg.norm(y - expected) / np.linalg.norm(expected) < 2e-2  # FP16 against FP32
