"""Compare an artifact's outputs with the PyTorch reference: a typed outcome.

Policy (as Optimum's): a shape mismatch or non-finite output fails; a tolerance miss
keeps the artifact and says ``degraded`` or ``failed`` with the reason.
"""

from __future__ import annotations

import numpy as np

from ..formats import Tolerance
from ..results import Status, Validation


def _failed(reason: str, samples: int, tolerance: Tolerance, inputs: str) -> Validation:
    return Validation(Status.FAILED, reason, samples, None, None, None, None, 0.0, tolerance, inputs)


def compare(reference: np.ndarray, outputs: np.ndarray, tolerance: Tolerance,
            inputs: str = "") -> Validation:
    """Judge ``outputs`` (N x classes) against ``reference`` under ``tolerance``."""
    n = int(reference.shape[0])
    if outputs.shape != reference.shape:
        return _failed(f"output shape {outputs.shape} != reference {reference.shape}", n,
                       tolerance, inputs)
    got = outputs.astype(np.float64)
    ref = reference.astype(np.float64)
    if not np.isfinite(got).all():
        return _failed("outputs contain NaN or Inf", n, tolerance, inputs)
    diff = np.abs(got - ref)
    max_abs = float(diff.max())
    scale = max(float(np.abs(ref).max()), 1e-12)
    rel = max_abs / scale
    dot = (got * ref).sum(axis=1)
    norms = np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1)
    cos = np.where(norms > 0, dot / np.maximum(norms, 1e-300), 0.0)
    top1 = float((got.argmax(axis=1) == ref.argmax(axis=1)).mean())
    t = tolerance
    misses = []
    if t.max_rel_diff is not None and rel > t.max_rel_diff:
        misses.append(f"relative max diff {rel:.2e} > {t.max_rel_diff:.0e}")
    if cos.min() < t.min_cosine:
        misses.append(f"cosine {cos.min():.6f} < {t.min_cosine}")
    if top1 < t.min_top1_agreement:
        misses.append(f"top-1 agreement {top1:.1%} < {t.min_top1_agreement:.0%}")
    if cos.min() < t.fail_cosine or top1 < t.fail_top1_agreement:
        outcome = Status.FAILED
    elif misses:
        outcome = Status.DEGRADED
    else:
        outcome = Status.OK
    reason = "; ".join(misses) if misses else "within tolerance"
    return Validation(outcome, reason, n, max_abs, rel, float(cos.min()), float(cos.mean()),
                      top1, tolerance, inputs)
