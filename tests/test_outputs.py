"""Outputs on a target: the real agent's outputs job, the tensor files made once per way of
reading inputs, and the one rule choosing runtimes, over every row of the table."""

import numpy as np
import pytest

from edgebench import formats
from edgebench.data.labelled import DatasetSpec
from edgebench.outputs import InputTensors, fetch, select_runtimes
from edgebench.results import Stage, Status
from edgebench.runtimes import ModelRef, RuntimeSettings
from edgebench.targets import TargetError
from edgebench.targets.local import LocalTarget
from edgebench.zoo.spec import Preprocess


def _null_model(target) -> ModelRef:
    return ModelRef(path=None, format="onnx")


def test_the_agent_returns_every_output_row(tmp_path):
    # The null runtime returns its inputs: what comes back must be exactly what went in,
    # through the real agent process, in batches of 3 over 8 rows.
    x = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    with LocalTarget() as target:
        done = fetch(target, _null_model, "null", RuntimeSettings(batch=3),
                     target.put(tmp_path / "in.npy"), tmp_path, "out", timeout_s=120)
    assert done.ok and done.reply.status == Status.OK and done.seconds > 0
    np.testing.assert_array_equal(done.values, x)
    assert (tmp_path / "out.npy").exists()


def test_top_k_comes_back_as_indices(tmp_path):
    x = np.array([[0.1, 0.9, 0.5], [3.0, 1.0, 2.0]], dtype=np.float32)
    np.save(tmp_path / "in.npy", x)
    with LocalTarget() as target:
        done = fetch(target, _null_model, "null", RuntimeSettings(batch=2),
                     target.put(tmp_path / "in.npy"), tmp_path, "top", timeout_s=120, top_k=2)
    assert done.ok
    np.testing.assert_array_equal(done.values, [[1, 2], [0, 2]])


def test_a_failed_upload_is_a_transport_reply_not_an_exception(tmp_path):
    def unreachable(target):
        raise TargetError(Status.UNREACHABLE, "connection refused")

    with LocalTarget() as target:
        done = fetch(target, unreachable, "null", RuntimeSettings(batch=1), "/nowhere.npy",
                     tmp_path, "out", timeout_s=120)
    assert not done.ok and done.values is None
    assert done.reply.status == Status.UNREACHABLE and done.reply.stage == Stage.TRANSPORT
    assert "connection refused" in done.reply.reason


def test_a_runtime_error_comes_back_as_the_agents_reply(tmp_path):
    # A missing inputs file: the agent itself says why, and no array is made up.
    with LocalTarget() as target:
        done = fetch(target, _null_model, "null", RuntimeSettings(batch=1),
                     str(tmp_path / "missing.npy"), tmp_path, "out", timeout_s=120)
    assert not done.ok and done.reply.status != Status.OK and done.reply.reason


def test_input_tensors_are_made_once_per_way_of_reading_them(tmp_path):
    split = DatasetSpec.parse("fashion-mnist:test:6").open("eval")
    preprocess = Preprocess(resolution=32, resize=32)
    with LocalTarget() as target:
        tensors = InputTensors(split, target, tmp_path)
        first = tensors.get(preprocess, "NCHW", None)
        again = tensors.get(preprocess, "NCHW", None)
        nhwc = tensors.get(preprocess, "NHWC", None)
    assert again is first and nhwc.remote != first.remote
    assert sorted(p.name for p in tmp_path.glob("inputs-*.npy")) == ["inputs-0.npy", "inputs-1.npy"]
    assert np.load(first.remote).shape == (6, 3, 32, 32)
    assert np.load(nhwc.remote).shape == (6, 32, 32, 3)
    assert len(first.labels) == 6 and first.error is None


@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_without_a_request_bench_takes_every_loading_runtime_and_eval_the_validator(fmt):
    every, refused = select_runtimes(fmt, "resnet18", (), every=True)
    assert [c.runtime for c in every] == formats.runtimes_for(fmt) and not refused
    (one,), refused = select_runtimes(fmt, "resnet18", (), every=False)
    assert one.runtime == formats.FORMATS[fmt].validated_by and not refused


@pytest.mark.parametrize("runtime", list(formats.RUNTIMES))
@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_a_requested_runtime_runs_only_what_its_row_loads(fmt, runtime):
    choice = formats.parse_runtime(runtime)
    loading, refused = select_runtimes(fmt, "resnet18", (choice,), every=True)
    if formats.RUNTIMES[runtime].loads(fmt, "resnet18"):
        assert loading == [choice] and not refused
    else:
        (no,) = refused
        assert not loading and no.choice == choice
        assert no.reason.startswith(f"{runtime} does not load {fmt} (it loads ")


def test_the_reference_runtime_needs_a_model_to_rebuild():
    reference = next(r for r in formats.RUNTIMES.values() if r.reference)
    choice = formats.parse_runtime(reference.name)
    assert select_runtimes("onnx", "resnet18", (choice,), every=False)[0] == [choice]
    # a bare model file names no zoo model: there is no PyTorch module to run
    loading, (refused,) = select_runtimes("onnx", None, (choice,), every=False)
    assert not loading and refused.choice == choice
