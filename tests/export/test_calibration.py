"""The one calibration protocol: every quantiser's reader yields the same samples, one at a
time with the batch dimension kept, in the same order."""

import numpy as np
import pytest

from edgebench.export import calibration

SAMPLES = np.random.default_rng(0).standard_normal((5, 3, 8, 8)).astype(np.float32)


def _batches(samples):
    return list(calibration.batches(samples))


def _onnxruntime(samples):
    reader = calibration.onnxruntime_reader(samples, "input")
    first = list(iter(lambda: reader.get_next(), None))
    reader.rewind()  # a quantiser may read the set twice
    again = list(iter(lambda: reader.get_next(), None))
    assert [x["input"].tobytes() for x in first] == [x["input"].tobytes() for x in again]
    return [x["input"] for x in first]


def _nncf(samples):
    pytest.importorskip("nncf")
    return list(calibration.nncf_dataset(samples).get_inference_data())


def _litert(samples):
    data = calibration.litert_signature_data(samples, "serving_default", "args_0")
    assert list(data) == ["serving_default"]
    return [x["args_0"] for x in data["serving_default"]]


@pytest.mark.parametrize("read", [_batches, _onnxruntime, _nncf, _litert],
                         ids=["batches", "onnxruntime", "nncf", "litert"])
def test_every_reader_yields_each_sample_once_in_order(read):
    got = read(SAMPLES)
    assert len(got) == len(SAMPLES)
    for i, x in enumerate(got):
        assert x.shape == (1, 3, 8, 8)
        np.testing.assert_array_equal(x[0], SAMPLES[i])


def test_an_empty_set_yields_nothing():
    assert list(calibration.batches(SAMPLES[:0])) == []
    assert calibration.onnxruntime_reader(SAMPLES[:0], "input").get_next() is None
