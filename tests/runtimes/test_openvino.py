"""The OpenVINO backend on the shared small artifact: it loads and runs the IR, pins the
inference precision to the artifact's and records what it compiled."""

import shutil

import numpy as np
import pytest

from edgebench.agent import Job, run_job
from edgebench.bench import resolve
from edgebench.errors import LoadError
from edgebench.harness import HarnessSettings
from edgebench.results import Status
from edgebench.runtimes import ModelRef, RuntimeSettings, infer
from edgebench.runtimes import onnxruntime, openvino

QUICK = HarnessSettings(warmup_runs=1, min_runs=3, min_seconds=0)


def _job(ref, runtime, **settings):
    return Job(model=ref, runtime=runtime, settings=RuntimeSettings(**settings), harness=QUICK)


def test_openvino_fp32_is_pinned_to_f32(small_artifacts):
    ref = resolve(str(small_artifacts["openvino"])).model
    r = run_job(_job(ref, "openvino", threads=2))
    assert r.settings_used["inference_precision_hint"] == "f32"
    assert r.settings_used["inference_num_threads"] == 2


def test_openvino_xml_without_its_bin(small_artifacts, tmp_path):
    xml = shutil.copy(small_artifacts["openvino"] / "model.xml", tmp_path / "model.xml")
    ref = resolve(str(xml)).model
    r = run_job(_job(ref, "openvino"))
    assert r.status == Status.LOAD_FAILED and "model.bin" in r.reason


def test_openvino_weights_may_live_apart_from_the_xml(small_artifacts, tmp_path):
    """A content-addressed transport puts .xml and .bin in different folders."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    xml = shutil.copy(small_artifacts["openvino"] / "model.xml", tmp_path / "a" / "model.xml")
    weights = shutil.copy(small_artifacts["openvino"] / "model.bin", tmp_path / "b" / "w.bin")
    ref = ModelRef(**{**resolve(str(small_artifacts["openvino"])).model.to_dict(),
                      "path": str(xml), "sidecar": str(weights)})
    assert run_job(_job(ref, "openvino")).status == Status.OK


def test_it_computes_what_onnxruntime_computes_and_records_fp32(small_artifacts):
    """The same model exported to IR and ONNX: the same function, run in f32 as exported."""
    ov_ref = resolve(str(small_artifacts["openvino"])).model
    onnx_ref = resolve(str(small_artifacts["onnx"])).model
    x = np.random.default_rng(0).standard_normal(ov_ref.shape(1)).astype(np.float32)
    session = openvino.load(ov_ref, RuntimeSettings(threads=1))
    y = infer(session, x)
    expected = infer(onnxruntime.load(onnx_ref, RuntimeSettings(threads=1)), x)
    assert y.shape == (1, 1000)
    np.testing.assert_allclose(y, expected, rtol=1e-3, atol=1e-4)
    used = session.settings_used
    assert (used["runtime"], used["device"], used["performance_hint"]) == ("openvino", "CPU", "LATENCY")
    assert used["executed_precision"] == "fp32" and used["num_streams"] >= 1


@pytest.mark.parametrize("settings,needle", [
    (RuntimeSettings(device="no-such-device"), "has no device 'no-such-device' here: available are"),
    (RuntimeSettings(hint="fastest"), "choose latency, throughput"),
])
def test_a_device_or_hint_it_does_not_know_is_a_load_error(small_artifacts, settings, needle):
    with pytest.raises(LoadError, match=needle):
        openvino.load(resolve(str(small_artifacts["openvino"])).model, settings)


@pytest.mark.parametrize("precision", sorted(openvino.PRECISION_HINTS))
def test_every_precision_hint_is_an_openvino_type(precision):
    import openvino as ov

    hint, capability = openvino.PRECISION_HINTS[precision]
    assert getattr(ov.Type, hint).to_string() == hint
    assert capability.lower().replace("fp", "f") == hint  # the device capability of that type
