"""One export command: resolve, reuse cached artifacts, build once, export, validate, commit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import artifacts, formats, zoo
from ..errors import ExportError, UserInputError
from ..runtimes import ModelRef, RuntimeSettings, infer
from ..zoo import weights as zoo_weights
from .options import ExportOptions
from .validate import ValidationResult, compare

Progress = Callable[[str], None]  # called once per step with what starts now
REFERENCE_BATCH = 8


@dataclass(frozen=True)
class ExportRequest:
    """Everything ``edgebench export`` was asked to do."""

    model: str
    formats: tuple[str, ...] = tuple(formats.FORMATS)
    precisions: tuple[str, ...] = ("fp32",)
    weights: str = "imagenet"
    resolution: int | None = None
    opset: int = 17
    dynamic_batch: bool = False
    out_dir: Path = Path("artifacts")
    force: bool = False


@dataclass(frozen=True)
class ExportResult:
    """One (format, precision) cell of an export: an artifact, or why there is none."""

    capability: formats.Capability
    status: str  # ok | degraded | failed (validation) | export_failed
    reason: str
    artifact: artifacts.Artifact | None = None
    cached: bool = False

    def to_dict(self) -> dict:
        d = {"format": self.capability.format, "precision": self.capability.precision,
             "status": self.status, "reason": self.reason, "cached": self.cached,
             "path": str(self.artifact.path) if self.artifact else None}
        if self.artifact:
            m = self.artifact.manifest
            d.update(size_bytes=m["size_bytes"], export_seconds=m["export_seconds"],
                     validation=m["validation"])
        return d


def planned_steps(request: ExportRequest) -> int:
    return 2 + 2 * len(request.formats) * len(request.precisions)


def _cache_parts(entry, weights, cap, options: ExportOptions) -> dict:
    return {"model": entry.name, "weights": weights.identity, "capability": cap.key,
            "options": options.__dict__,
            "tools": artifacts.tool_versions(tuple(dict.fromkeys(cap.tools + entry.requires)))}


def run(request: ExportRequest, progress: Progress = lambda step: None) -> list[ExportResult]:
    """Export ``request.model`` to every requested (format, precision)."""
    entry = zoo.get(request.model)
    caps = [formats.lookup(f, p) for f in request.formats for p in request.precisions]
    resolution = entry.resolution if request.resolution is None else request.resolution
    if resolution <= 0:
        raise UserInputError(f"--resolution must be a positive number of pixels, got {resolution}")
    options = ExportOptions(resolution=resolution, opset=request.opset,
                            dynamic_batch=request.dynamic_batch)
    folder = request.out_dir / entry.name
    artifacts.ensure_writable(folder)
    progress("resolving weights")
    weights = zoo_weights.resolve(entry, request.weights)

    results: dict[str, ExportResult] = {}
    pending = []
    for cap in caps:
        key = artifacts.cache_key(_cache_parts(entry, weights, cap, options))
        hit = None if request.force else artifacts.find_cached(folder / cap.key, key)
        if hit:
            results[cap.key] = ExportResult(cap, hit.status, "cache hit", hit, cached=True)
        else:
            pending.append((cap, key))
    if pending:
        exporters = {cap.key: cap.load_exporter() for cap, _ in pending}
        progress(f"building {entry.name} ({weights.kind} weights) and its reference outputs")
        model = zoo_weights.build_model(entry, weights, resolution)
        preprocess = entry.preprocess.at_resolution(resolution)
        from ..data.photos import photo_batch

        names, x = photo_batch(preprocess)
        reference = _torch_outputs(model, x)
        inputs = f"{len(names)} real photos shipped with scikit-image (and their mirrors)"
        for cap, key in pending:
            progress(f"exporting {cap.format} {cap.precision} ({cap.converter})")
            results[cap.key] = _export_one(
                cap, key, exporters[cap.key], model, entry, weights, options, preprocess,
                x, reference, inputs, folder, progress)
    return [results[cap.key] for cap in caps]


def _torch_outputs(model, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        chunks = [model(torch.from_numpy(x[i:i + REFERENCE_BATCH])).numpy()
                  for i in range(0, len(x), REFERENCE_BATCH)]
    return np.concatenate(chunks)


def _run_artifact(cap: formats.Capability, path: Path, info, x: np.ndarray) -> np.ndarray:
    """The artifact's outputs on ``x`` in its validation runtime (batched when it can)."""
    ref = ModelRef(path=str(path), format=cap.format, precision=cap.precision,
                   input_name=info.input_name, input_shape=info.input_shape)
    backend = cap.validation_runtime.load_backend()
    if info.input_shape[0] == "batch":
        return infer(backend.load(ref, RuntimeSettings(batch=len(x))), x)
    session = backend.load(ref, RuntimeSettings(batch=1))
    return np.concatenate([infer(session, x[i:i + 1]) for i in range(len(x))])


def _export_one(cap, key, exporter, model, entry, weights, options, preprocess, x, reference,
                inputs, folder: Path, progress: Progress) -> ExportResult:
    import torch

    final = folder / cap.key
    with artifacts.staging(final) as stage:
        started = time.perf_counter()
        try:
            info = exporter(model, torch.from_numpy(x[:1]), stage / cap.file_name, options)
        except ExportError as e:
            return ExportResult(cap, "export_failed", str(e))
        export_seconds = time.perf_counter() - started
        progress(f"validating {cap.format} {cap.precision} in {cap.runtimes[0]}")
        try:
            outputs = _run_artifact(cap, stage / cap.file_name, info, x)
            validation = compare(reference, outputs, cap.tolerance, inputs)
        except Exception as e:  # any runtime error means the artifact does not run
            first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
            validation = ValidationResult(
                "failed", f"{cap.runtimes[0]} could not run it: {first}", len(x),
                *([float("nan")] * 4), 0.0, cap.tolerance, inputs)
        counts = zoo.counts(entry.name)
        manifest = {
            "model": {"name": entry.name, "family": entry.family, "resolution": options.resolution,
                      "native_resolution": entry.resolution,
                      "params": counts.params if counts else None,
                      "macs": counts.macs if counts and options.resolution == counts.resolution else None},
            "weights": weights.to_dict(),
            "format": cap.format,
            "precision": cap.precision,
            "converter": cap.converter,
            **info.extra,
            "input": info.input_dict(),
            "output": {"name": info.output_name, "shape": [info.input_shape[0], int(reference.shape[1])],
                       "dtype": "float32"},
            "preprocess": preprocess.to_dict(),
            **artifacts.describe_files(stage),
            "tools": artifacts.tool_versions(tuple(dict.fromkeys(cap.tools + entry.requires))),
            "export_seconds": round(export_seconds, 3),
            "validation": validation.to_dict(),
            "cache_key": key,
        }
        art = artifacts.commit(stage, final, manifest)
    return ExportResult(cap, validation.outcome, validation.reason, art)
