"""The INT8 rescue ladder: when an INT8 artifact falls below an accuracy floor, try the
format's rescue rungs in order (``formats.rescue_rungs``: another calibration with more
samples, the most sensitive layers kept in float, 16-bit activations, then FP16) until one
meets the floor. Every rung tried is exported and validated like any artifact, scored on the
checkpoint's own validation split against FP32 PyTorch on the same images, and timed; the
whole ladder is written into the chosen artifact's manifest (``rescue``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

from .. import artifacts, formats
from ..errors import UserInputError
from ..results import ExportCell, Status

_SHARE = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
_POINTS = re.compile(r"^-?(\d+(?:\.\d+)?)\s*(?:pt|pts|points?)$")
QUICK_TIMING = dict(warmup_runs=3, min_runs=20, min_seconds=0.5)


@dataclass(frozen=True)
class AccuracyFloor:
    """The least top-1 an INT8 artifact may keep: a share of FP32's, or points below it."""

    text: str
    value: float
    relative: bool

    @classmethod
    def parse(cls, text: str) -> "AccuracyFloor":
        t = text.strip().lower()
        share, points = _SHARE.match(t), _POINTS.match(t)
        if share and 0 < float(share.group(1)) <= 100:
            return cls(text, float(share.group(1)) / 100, True)
        if points and float(points.group(1)) <= 100:
            return cls(text, float(points.group(1)), False)
        raise UserInputError(f"--accuracy-floor {text!r}: give a share of the FP32 top-1 (99%) "
                             "or the points it may lose (-1pt)")

    def threshold(self, fp32_top1: float) -> float:
        return fp32_top1 * self.value if self.relative else fp32_top1 - self.value

    def describe(self) -> str:
        return (f"{self.value * 100:g}% of FP32 top-1" if self.relative else
                f"FP32 top-1 - {self.value:g} point(s)")


@dataclass(frozen=True)
class RungResult:
    rung: int  # 0: plain INT8
    name: str
    what: str
    status: str  # the export's status, or its accuracy run's
    reason: str
    folder: str | None = None
    top1: float | None = None
    size_mb: float | None = None
    p50_ms: float | None = None


@dataclass(frozen=True)
class Ladder:
    """One format's ladder: every rung tried, in order, and the one that met the floor."""

    model: str
    format: str
    floor: str
    dataset: str | None
    fp32_top1: float | None  # FP32 PyTorch on the same images
    threshold: float | None
    rungs: tuple[RungResult, ...]
    chosen: str | None  # the rung's name; None: unrescuable
    fp32_p50_ms: float | None = None
    slower_than_fp32: bool | None = None

    @property
    def met(self) -> bool:
        return self.chosen is not None

    def to_dict(self) -> dict:
        return {**asdict(self), "met": self.met}


Progress = Callable[[str], None]


def run(request, cells: list[ExportCell], floor: AccuracyFloor, samples: int | None = None,
        progress: Progress = lambda s: None, warn: Callable[[str], None] = lambda m: None,
        target=None) -> list[Ladder]:
    """The ladder of every asked format whose INT8 artifact was made (``cells``: the export's)."""
    from contextlib import nullcontext

    from ..targets.local import LocalTarget

    found = {(c.format, c.precision, c.converter_description): c for c in cells}
    ladders = []
    with nullcontext(target) if target else LocalTarget() as here:
        for fmt in request.formats:
            fp32 = found.get((fmt, "fp32", formats.lookup(fmt, "fp32").converter_description))
            plain = found.get((fmt, "int8", formats.lookup(fmt, "int8").converter_description))
            if plain is not None:
                ladders.append(_climb(request, fmt, fp32, plain, floor, samples, progress, warn, here))
    return ladders


def _climb(request, fmt, fp32, plain, floor, samples, progress, warn, target) -> Ladder:
    from . import pipeline

    cap = formats.lookup(fmt, "int8")
    first = RungResult(0, "int8", cap.converter_description, plain.status.value, plain.reason, plain.path)
    if plain.path is None:
        return Ladder(request.model, fmt, floor.text, None, None, None, (first,), None)
    dataset = _dataset(Path(plain.path), samples)
    progress(f"{fmt} int8: top-1 on {dataset}")
    first, fp32_top1 = _scored(first, dataset, cap, target)
    threshold = floor.threshold(fp32_top1) if fp32_top1 is not None else None
    rungs, chosen = [first], None
    if threshold is not None and first.top1 is not None and first.top1 >= threshold:
        chosen = first.name
    for rung in ([] if chosen or threshold is None else formats.rescue_rungs(fmt)):
        name = rung.variant or rung.precision
        progress(f"{fmt}: rescue rung {rung.rung} ({name})")
        sub = replace(request, formats=(fmt,), precisions=(rung.precision,), rung=rung.variant,
                      calib=_more_calibration(request, plain.path) if rung.rung == 1 else request.calib,
                      explicit_formats=True)
        made = {(c.format, c.precision, c.converter_description): c
                for c in pipeline.run(sub, progress, warn)}
        cell = made.get((fmt, rung.precision, rung.converter_description))
        result = RungResult(rung.rung, name, rung.converter_description, cell.status.value if cell else "missing",
                            cell.reason if cell else "the export made no such artifact",
                            cell.path if cell else None)
        # an artifact its validation judged "failed" is still scored: accuracy decides the rung
        if cell is not None and cell.path and cell.status in (Status.OK, Status.DEGRADED, Status.FAILED):
            result, _ = _scored(result, dataset, rung, target)
        rungs.append(result)
        if result.top1 is not None and result.top1 >= threshold:
            chosen = name
            break
    rungs, fp32_p50 = _timed(rungs, fp32, cap, target)
    picked = next((r for r in rungs if r.name == chosen), None)
    ladder = Ladder(request.model, fmt, floor.text, dataset, fp32_top1, threshold, tuple(rungs), chosen,
                    fp32_p50, (picked.p50_ms > fp32_p50) if picked and picked.p50_ms and fp32_p50
                    else None)
    keep = Path(picked.folder if picked else plain.path)
    artifacts.annotate(keep, rescue=ladder.to_dict())
    return ladder


def _dataset(folder: Path, samples: int | None) -> str:
    art = artifacts.read(folder)
    entry = art.manifest.dataset if art else None
    if not entry:
        raise UserInputError("--accuracy-floor needs labelled data to measure: export a checkpoint "
                             "made by `edgebench train` (its validation split scores each rung)")
    return entry.eval_spec + (f":{samples}" if samples else "")


def _more_calibration(request, folder: str) -> str:
    """The plain INT8's calibration source with MORE_CALIBRATION times its samples."""
    m = artifacts.read(Path(folder)).manifest
    count = (m.quantization.samples if m.quantization else None) or 1
    # the export's own default: the checkpoint's training split
    text = request.calib or (m.dataset.train_spec if m.dataset else "fashion-mnist")
    head, sep, tail = text.rpartition(":")
    return f"{head if sep and tail.isdigit() else text}:{count * formats.MORE_CALIBRATION}"


def _scored(result: RungResult, dataset: str, cap: formats.Capability, target) -> tuple[RungResult, float | None]:
    """The rung with its top-1, and FP32 PyTorch's top-1 on the same images."""
    from ..evaluate import EvalRequest, run as evaluate

    (cell,) = evaluate(EvalRequest(artifacts=(result.folder,), dataset=dataset,
                                   runtime=cap.validated_by), target)
    if cell.top1 is None:
        return replace(result, status=cell.status.value, reason=cell.reason), cell.reference_top1
    art = artifacts.read(Path(result.folder))
    return replace(result, top1=cell.top1, size_mb=art.manifest.size_bytes / 1e6), cell.reference_top1


def _timed(rungs: list[RungResult], fp32: ExportCell | None, cap, target) -> tuple[list[RungResult], float | None]:
    """p50 of every scored rung and of FP32, side by side in one run."""
    from ..bench import BenchRequest, run as bench
    from ..harness import HarnessSettings

    folders = [r.folder for r in rungs if r.top1 is not None]
    if fp32 is not None and fp32.path:
        folders.append(fp32.path)
    if not folders:
        return rungs, None
    # each rung in its own format's reference runtime (an FP16 rung of ONNX in onnxruntime)
    rows = bench(BenchRequest(artifacts=tuple(folders), runtime=cap.validated_by,
                              harness=HarnessSettings(**QUICK_TIMING)), target)
    p50 = {row.label: row.latency.p50_ms for row in rows if row.latency}
    timed = [replace(r, p50_ms=p50.get(r.folder)) if r.folder else r for r in rungs]
    return timed, p50.get(fp32.path) if fp32 is not None and fp32.path else None
