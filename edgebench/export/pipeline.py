"""One export command: resolve, reuse cached artifacts, build once, export, validate, commit.

FP32 is always made first in each format: FP16, BF16 and INT8 are derived from it.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .. import artifacts, formats, zoo
from ..errors import ExportError, UnsupportedError, UserInputError
from ..runtimes import ModelRef, RuntimeSettings, first_line, infer
from ..zoo import weights as zoo_weights
from .options import ExportContext, ExportOptions
from .validate import ValidationResult, compare

Progress = Callable[[str], None]  # called once per step with what starts now
Warn = Callable[[str], None]
REFERENCE_BATCH = 16
DEFAULT_VALIDATION_SAMPLES = 500
BASE_PRECISION = "fp32"


@dataclass(frozen=True)
class ExportRequest:
    """Everything ``edgebench export`` was asked to do."""

    model: str
    formats: tuple[str, ...] = tuple(formats.FORMATS)
    precisions: tuple[str, ...] = (BASE_PRECISION,)
    weights: str = "imagenet"
    resolution: int | None = None
    opset: int = 17
    dynamic_batch: bool = False
    layout: str = "nchw"
    calib: str | None = None  # SOURCE[:N]; None: fashion-mnist when INT8 is asked for
    validate_samples: int = DEFAULT_VALIDATION_SAMPLES
    min_top1_agreement: float | None = None  # None: the precision's own floor
    out_dir: Path = Path("artifacts")
    force: bool = False
    explicit_formats: bool = True  # unsupported pairs are errors, not "unsupported" rows


@dataclass(frozen=True)
class ExportResult:
    """One (format, precision) cell of an export: an artifact, or why there is none."""

    format: str
    precision: str
    status: str  # ok | degraded | failed (validation) | export_failed | unsupported
    reason: str
    artifact: artifacts.Artifact | None = None
    cached: bool = False

    @property
    def key(self) -> str:
        return f"{self.format}-{self.precision}"

    def to_dict(self) -> dict:
        d = {"format": self.format, "precision": self.precision, "status": self.status,
             "reason": self.reason, "cached": self.cached,
             "path": str(self.artifact.path) if self.artifact else None}
        if self.artifact:
            m = self.artifact.manifest
            d.update(size_bytes=m["size_bytes"], export_seconds=m["export_seconds"],
                     validation=m["validation"])
        return d


def planned_steps(request: ExportRequest) -> int:
    return 3 + 2 * len(request.formats) * len(set(request.precisions) | {BASE_PRECISION})


def _plan(request: ExportRequest) -> tuple[list[formats.Capability], list[ExportResult]]:
    precisions = tuple(dict.fromkeys((BASE_PRECISION, *request.precisions)))
    caps, unsupported = [], []
    for fmt in request.formats:
        formats.check_format(fmt)
        if request.layout not in formats.FORMATS[fmt].layouts:
            raise UnsupportedError(f"{fmt} does not take {request.layout} inputs: it takes "
                                   f"{', '.join(formats.FORMATS[fmt].layouts)}")
        for precision in precisions:
            try:
                caps.append(formats.lookup(fmt, precision))
            except UnsupportedError as e:
                if request.explicit_formats:
                    raise
                unsupported.append(ExportResult(fmt, precision, "unsupported", str(e)))
    return caps, unsupported


def _tolerance(request: ExportRequest, cap: formats.Capability) -> formats.Tolerance:
    if request.min_top1_agreement is None or cap.precision != "int8":
        return cap.tolerance
    return replace(cap.tolerance, min_top1_agreement=request.min_top1_agreement)


def _tools(cap: formats.Capability, entry) -> dict[str, str]:
    """Versions of everything that shapes this artifact's bytes (cache key and manifest)."""
    return artifacts.tool_versions(tuple(dict.fromkeys(cap.tools + entry.requires)))


def _nhwc(model):
    """The module behind a channels-last input: (N, H, W, C) -> (N, C, H, W) -> model."""
    import torch

    class ChannelsLastInput(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x.permute(0, 3, 1, 2))

    return ChannelsLastInput(model).eval()


def run(request: ExportRequest, progress: Progress = lambda step: None,
        warn: Warn = lambda message: None) -> list[ExportResult]:
    """Export ``request.model`` to every requested (format, precision)."""
    from ..data.datasets import CalibrationSpec, held_out

    entry = zoo.get(request.model)
    caps, unsupported = _plan(request)
    resolution = entry.resolution if request.resolution is None else request.resolution
    if resolution <= 0:
        raise UserInputError(f"--resolution must be a positive number of pixels, got {resolution}")
    if request.validate_samples < 1:
        raise UserInputError("--validate-samples must be at least 1")
    options = ExportOptions(resolution=resolution, opset=request.opset,
                            dynamic_batch=request.dynamic_batch, layout=request.layout)
    needs_calibration = any(c.calibrated for c in caps)
    calib = CalibrationSpec.parse(request.calib or "fashion-mnist") if needs_calibration else None
    if calib and calib.is_random:
        warn("calibrating on random noise (--calib random): INT8 accuracy will suffer; "
             "use --calib fashion-mnist or a folder of real images")
    folder = request.out_dir / entry.name
    artifacts.ensure_writable(folder)
    progress("resolving weights")
    weights = zoo_weights.resolve(entry, request.weights)

    keys, results, pending = {}, {}, []
    for cap in caps:
        keys[cap.key] = artifacts.cache_key({
            "model": entry.name, "weights": weights.identity, "capability": cap.key,
            "options": asdict(options), "validate_samples": request.validate_samples,
            "tolerance": asdict(_tolerance(request, cap)),
            "calibration": calib.identity() if cap.calibrated else None,
            "base": keys.get(f"{cap.format}-{BASE_PRECISION}"),
            "tools": _tools(cap, entry)})
        hit = None if request.force else artifacts.find_cached(folder / cap.key, keys[cap.key])
        if hit:
            reason = f"{hit.manifest['validation']['reason']} (cache hit)"
            results[cap.key] = ExportResult(cap.format, cap.precision, hit.status, reason, hit, True)
        else:
            pending.append(cap)
    if pending:
        exporters = {cap.key: cap.load_exporter() for cap in pending}
        progress(f"building {entry.name} ({weights.kind} weights) and its reference outputs")
        model = zoo_weights.build_model(entry, weights, resolution)
        preprocess = entry.preprocess.at_resolution(resolution)
        calibration = None
        if any(cap.calibrated for cap in pending):
            progress(f"loading {calib.count} calibration samples from {calib.source}")
            calibration = calib.load(preprocess)
            if calibration.skipped:
                warn(f"skipped {calibration.skipped} unreadable files in {calib.source}")
            if len(calibration) < calib.count:
                warn(f"asked for {calib.count} calibration samples, {calib.source} gave "
                     f"{len(calibration)}: going on with those")
        validation, notes = held_out(preprocess, request.validate_samples,
                                     calibration.digests if calibration else frozenset())
        for note in notes:
            warn(note)
        reference = _torch_outputs(model, validation.x)
        to_layout = (lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))) \
            if options.layout == "nhwc" else (lambda a: a)
        import torch

        exported_model = _nhwc(model) if options.layout == "nhwc" else model
        inputs = to_layout(validation.x)
        calibration_inputs = to_layout(calibration.x) if calibration else None
        sample = torch.from_numpy(inputs[:1])
        for cap in pending:
            base = None
            if cap.precision != BASE_PRECISION:
                base_result = results.get(f"{cap.format}-{BASE_PRECISION}")
                if base_result is None or base_result.artifact is None:
                    results[cap.key] = ExportResult(cap.format, cap.precision, "export_failed",
                                                    f"needs the {cap.format} FP32 artifact, which failed")
                    continue
                base = base_result.artifact.model_file
            progress(f"exporting {cap.format} {cap.precision} ({cap.converter})")
            ctx = ExportContext(model=exported_model, sample=sample, options=options, base=base,
                                calibration=calibration_inputs if cap.calibrated else None)
            results[cap.key] = _export_one(
                cap, keys[cap.key], exporters[cap.key], ctx, entry, weights, preprocess,
                inputs, validation.source, reference, _tolerance(request, cap),
                calibration.source if cap.calibrated else None, folder, progress)
    return [results[cap.key] for cap in caps] + unsupported


def _torch_outputs(model, x: np.ndarray) -> np.ndarray:
    """FP32 PyTorch outputs. Channels-last is 1.5x faster on these CPUs and still FP32."""
    import torch

    model = model.to(memory_format=torch.channels_last)
    with torch.no_grad():
        chunks = [model(torch.from_numpy(x[i:i + REFERENCE_BATCH]).contiguous(
                      memory_format=torch.channels_last)).numpy()
                  for i in range(0, len(x), REFERENCE_BATCH)]
    model.to(memory_format=torch.contiguous_format)  # exporters trace the plain layout
    return np.concatenate(chunks)


def _run_artifact(cap: formats.Capability, path: Path, info, x: np.ndarray) -> np.ndarray:
    """The artifact's outputs on ``x`` in its validation runtime (batched when it can)."""
    ref = ModelRef(path=str(path), format=cap.format, precision=cap.precision,
                   input_name=info.input_name, input_shape=info.input_shape)
    backend = cap.validation_runtime.load_backend()
    threads = os.cpu_count() or 1  # TFLite's own default is one thread
    if info.input_shape[0] == "batch":
        return np.concatenate([infer(backend.load(ref, RuntimeSettings(threads=threads,
                                                                       batch=len(x[i:i + 64]))),
                                     x[i:i + 64]) for i in range(0, len(x), 64)])
    session = backend.load(ref, RuntimeSettings(threads=threads, batch=1))
    return np.concatenate([infer(session, x[i:i + 1]) for i in range(len(x))])


def _export_one(cap, key, exporter, ctx: ExportContext, entry, weights, preprocess, x, inputs,
                reference, tolerance, calibration_source, folder: Path,
                progress: Progress) -> ExportResult:
    final = folder / cap.key
    with artifacts.staging(final) as stage:
        started = time.perf_counter()
        try:
            info = exporter(ctx, stage / cap.file_name)
        except ExportError as e:
            return ExportResult(cap.format, cap.precision, "export_failed", str(e))
        export_seconds = time.perf_counter() - started
        progress(f"validating {cap.format} {cap.precision} in {cap.runtimes[0]} on {len(x)} samples")
        try:
            outputs = _run_artifact(cap, stage / cap.file_name, info, x)
            validation = compare(reference, outputs, tolerance, inputs)
        except Exception as e:  # any runtime error means the artifact does not run
            validation = ValidationResult(
                "failed", f"{cap.runtimes[0]} could not run it: {first_line(e)}", len(x),
                *([float("nan")] * 4), 0.0, tolerance, inputs)
        counts = zoo.counts(entry.name)
        options = ctx.options
        manifest = {
            "model": {"name": entry.name, "family": entry.family, "resolution": options.resolution,
                      "native_resolution": entry.resolution, "num_classes": int(reference.shape[1]),
                      "params": counts.params if counts else None,
                      "macs": counts.macs if counts and options.resolution == counts.resolution else None},
            "weights": weights.to_dict(),
            "format": cap.format,
            "precision": cap.precision,
            "converter": cap.converter,
            **info.extra,
            "calibration": calibration_source,
            "input": info.input_dict(),
            "output": {"name": info.output_name, "shape": [info.input_shape[0], int(reference.shape[1])],
                       "dtype": "float32"},
            "preprocess": preprocess.to_dict() | {"layout": options.layout.upper()},
            **artifacts.describe_files(stage),
            "tools": _tools(cap, entry),
            "export_seconds": round(export_seconds, 3),
            "validation": validation.to_dict(),
            "cache_key": key,
        }
        art = artifacts.commit(stage, final, manifest)
    return ExportResult(cap.format, cap.precision, validation.outcome, validation.reason, art)
