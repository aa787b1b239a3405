import numpy as np
import pytest

from edgebench.export.validate import compare
from edgebench.formats import PRECISIONS

FP32 = PRECISIONS["fp32"].tolerance


@pytest.fixture
def reference():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 1000)).astype(np.float32) * 5


def test_identical_outputs_are_ok(reference):
    r = compare(reference, reference.copy(), FP32)
    assert r.outcome == "ok" and r.max_abs_diff == 0 and r.top1_agreement == 1.0


def test_float_rounding_noise_is_ok(reference):
    noisy = reference + np.float32(1e-6) * np.sign(reference)
    assert compare(reference, noisy, FP32).outcome == "ok"


def test_small_systematic_error_is_degraded(reference):
    rng = np.random.default_rng(1)
    r = compare(reference, reference + rng.normal(scale=0.05, size=reference.shape), FP32)
    assert r.outcome == "degraded"
    assert "relative max diff" in r.reason


def test_unrelated_outputs_fail(reference):
    r = compare(reference, reference[::-1].copy(), FP32)
    assert r.outcome == "failed" and r.top1_agreement < 0.5


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_outputs_fail(reference, bad):
    out = reference.copy()
    out[3, 7] = bad
    r = compare(reference, out, FP32)
    assert r.outcome == "failed" and "NaN or Inf" in r.reason


def test_shape_mismatch_fails(reference):
    r = compare(reference, reference[:, :10], FP32)
    assert r.outcome == "failed" and "shape" in r.reason


def test_result_serialises_with_its_tolerance(reference):
    d = compare(reference, reference, FP32, inputs="x").to_dict()
    assert d["tolerance"]["min_cosine"] == FP32.min_cosine and d["inputs"] == "x"
