"""The rescue ladder's sensitivity pass (rung 2), one for every format: the plain INT8
artifact against the PyTorch model, layer by layer (``edgebench diff``'s comparison), on
calibration samples. The layers that lose the most PSNR, and the first and last, are the
ones a rung-2 export keeps in float."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from .options import ExportContext, ExportInfo

SENSITIVE_SHARE = 0.1  # rung 2 keeps this share of the matched layers in float (at least 3)
LEAST_SENSITIVE = 3
SENSITIVITY_SAMPLES = 32


def keep_sensitive(ctx: ExportContext, path: Path, fmt: str,
                   quantize: Callable[[Path, tuple[str, ...]], ExportInfo]) -> ExportInfo:
    """Rung 2 of any format: ``quantize(path, keep)`` once plainly into a scratch folder, then
    into ``path`` with the ops of the most sensitive layers kept in float."""
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        plain = Path(tmp) / path.name
        quantize(plain, ())
        keep = sensitive_ops(ctx, fmt, plain)
    return quantize(path, keep)


def sensitive_ops(ctx: ExportContext, fmt: str, plain: Path) -> tuple[str, ...]:
    """The names of ``plain``'s ops (as its format names them) to keep out of quantisation."""
    from ..layerwise import compare_ops, sensitive_ops as pick

    samples = ctx.calibration[:SENSITIVITY_SAMPLES]
    rows, _, ops = compare_ops(ctx.model, samples, fmt, plain, samples, precision="int8")
    return pick(rows, ops, SENSITIVE_SHARE, LEAST_SENSITIVE)
