"""The PyTorch reference described for the torch backend: a builder and a state_dict file."""

import importlib

import numpy as np
import pytest

from edgebench import zoo
from edgebench.agent import Job, run_job
from edgebench.results import Status
from edgebench.runtimes import RuntimeSettings
from edgebench.zoo.reference import builder_of, torch_reference
from edgebench.zoo.weights import resolve as resolve_weights
from tests.helpers import torch_ref


def test_torch_reference_computes_the_zoo_model(tmp_path):
    """The described reference (builder + state_dict) is the model the zoo builds."""
    import torch

    from edgebench.zoo.weights import build_model

    x = np.random.default_rng(1).standard_normal((2, 3, 64, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    job = Job(model=torch_ref("resnet18"), runtime="torch", kind="outputs",
              settings=RuntimeSettings(batch=2, channels_last=False),
              inputs=str(tmp_path / "x.npy"), outputs=str(tmp_path / "y.npy"))
    assert run_job(job).status == Status.OK
    entry = zoo.get("resnet18")
    with torch.no_grad():
        expected = build_model(entry, resolve_weights(entry, "random"), 64)(torch.from_numpy(x))
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_entrys_builder_is_named_so_the_agent_can_import_it(name):
    entry = zoo.get(name)
    builder, args = builder_of(entry)
    module, qualname = builder.split(":")
    function = getattr(importlib.import_module(module), qualname)
    # the named function with the leading arguments is the entry's builder
    assert entry.build.func is function and entry.build.args == args


def test_the_state_dict_is_written_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = zoo.get("resnet18")
    weights = resolve_weights(entry, "random")
    first = torch_reference(entry, weights, 32)
    path = tmp_path / "edgebench" / "reference" / "resnet18"
    (written,) = path.iterdir()  # no partial file left beside it
    assert first.path == str(written) and written.name.endswith("-32px.pt")
    stamp = written.stat().st_mtime_ns
    again = torch_reference(entry, weights, 32)  # the class count read back from the file
    assert again == first and written.stat().st_mtime_ns == stamp
    assert first.builder_args == ("resnet18", 1000, 32) and first.input_shape == (1, 3, 32, 32)
