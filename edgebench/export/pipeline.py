"""One export command: resolve, reuse cached artifacts, build once, export, validate, commit.

FP32 is always made first in each format: FP16, BF16 and INT8 are derived from it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .. import artifacts, formats, limits, zoo
from ..errors import ExportError, OutputError, UnsupportedError, UserInputError
from ..fingerprint import tool_versions
from ..manifest import DatasetInfo, Manifest, ModelInfo, RescueRung, TensorSpec, WeightsInfo
from ..outputs import fetch
from ..results import CellKey, ExportCell, Stage, Status, Validation
from ..runtimes import ModelRef, RuntimeSettings
from ..targets import Target
from ..zoo import weights as zoo_weights
from ..zoo.spec import Preprocess
from .options import ExportContext, ExportOptions
from .validate import compare

Progress = Callable[[str], None]  # called once per step with what starts now
Warn = Callable[[str], None]
REFERENCE_BATCH = 16
DEFAULT_VALIDATION_SAMPLES = 500
DEFAULT_VALIDATION_TIMEOUT_S = 1800.0
DYNAMIC_BATCH = 64  # a dynamic-batch artifact is validated in chunks of this size
BASE_PRECISION = "fp32"
# Bumped when an exporter writes different bytes for the same inputs (2: quantised ONNX files
# import only the opsets their nodes use), so that older cached artifacts are made again.
EXPORT_REVISION = 2


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
    validation_timeout_s: float = DEFAULT_VALIDATION_TIMEOUT_S
    rung: str | None = None  # a rescue rung (formats.RESCUE_RUNGS) instead of the precisions
    converter: str | None = None  # another converter than each format's own (formats.converters())


def planned_steps(request: ExportRequest) -> int:
    return 3 + 2 * len(request.formats) * len(set(request.precisions) | {BASE_PRECISION})


@dataclass(frozen=True)
class _Export:
    """What every cell of one export shares: the model, its weights and the inputs."""

    request: ExportRequest
    entry: zoo.ModelEntry
    weights: zoo_weights.ResolvedWeights
    options: ExportOptions
    calibration_id: str | None
    folder: Path
    preprocess: Preprocess

    @property
    def dataset(self):
        """The checkpoint's own data set (its evaluation split), or None."""
        from ..data.labelled import DatasetSpec

        meta = self.weights.meta
        return DatasetSpec.parse(f"{meta.dataset}:{meta.eval_split}") if meta else None

    def key(self, cap: formats.Capability) -> CellKey:
        return CellKey(model=self.entry.name, weights=self.weights.identity, format=cap.format,
                       precision=cap.precision, converter_description=cap.converter_description,
                       calibration=self._calibration(cap), runtime=cap.validated_by,
                       settings=asdict(self.options), tools=_tools(cap, self.entry))

    def _calibration(self, cap: formats.Capability) -> str | None:
        return self.calibration_id if cap.calibrated else None

    def cell(self, cap: formats.Capability, status: Status, reason: str, *,
             stage: Stage | None = None, art: artifacts.Artifact | None = None,
             cached: bool = False, signal: str | None = None) -> ExportCell:
        m = art.manifest if art else None
        return ExportCell(
            model=self.entry.name, format=cap.format, precision=cap.precision, status=status,
            reason=reason, key=self.key(cap).digest, converter=cap.converter, stage=stage,
            tools=_tools(cap, self.entry), path=str(art.path) if art else None,
            size_bytes=m.size_bytes if m else None, export_seconds=m.export_seconds if m else None,
            validation=m.validation if m else None, validated_by=m.validated_by if m else None,
            signal=signal, cached=cached, name=cap.key, converter_description=cap.converter_description,
            weights=self.weights.identity, calibration=self._calibration(cap))


def _plan(request: ExportRequest) -> tuple[list[formats.Capability], list[tuple[str, str, str]]]:
    precisions = tuple(dict.fromkeys((BASE_PRECISION, *request.precisions)))
    caps, unsupported = [], []
    converter = request.converter
    made_by = set(formats.made_by(converter))
    if converter and not made_by.intersection(request.formats):
        raise UnsupportedError(f"--converter {converter} makes {', '.join(sorted(made_by))} only: "
                               f"add --formats {','.join(sorted(made_by))}")
    if converter and request.rung:
        raise UnsupportedError(f"the rescue ladder's rungs are made by each format's own converter, "
                               f"not {converter}: drop --converter {converter}")
    for fmt in request.formats:
        formats.check_format(fmt)
        if converter and fmt not in made_by:
            if request.explicit_formats:
                raise UnsupportedError(f"--converter {converter} does not make {fmt}: it makes "
                                       f"{', '.join(sorted(made_by))}")
            continue
        if request.layout not in formats.FORMATS[fmt].layouts:
            raise UnsupportedError(f"{fmt} does not take {request.layout} inputs: it takes "
                                   f"{', '.join(formats.FORMATS[fmt].layouts)}")
        if request.rung:  # the FP32 base it is made from, then the rung itself
            caps += [formats.lookup(fmt, BASE_PRECISION), formats.rung(fmt, request.rung)]
            continue
        for precision in precisions:
            try:
                caps.append(formats.lookup(fmt, precision, converter))
            except UnsupportedError as e:
                if request.explicit_formats:
                    raise
                unsupported.append((fmt, precision, str(e)))
    return caps, unsupported


def _base_key(cap: formats.Capability) -> str:
    """The FP32 artifact a precision is made from: the same format's, by the same converter."""
    return formats.lookup(cap.format, BASE_PRECISION, cap.converter).key


def _tolerance(request: ExportRequest, cap: formats.Capability) -> formats.Tolerance:
    if request.min_top1_agreement is None or cap.precision != "int8":
        return cap.tolerance
    return replace(cap.tolerance, min_top1_agreement=request.min_top1_agreement)


def _tools(cap: formats.Capability, entry) -> dict[str, str]:
    """Versions of everything that shapes this artifact's bytes (cache key and manifest), with
    the pinned version of a converter that runs in its own environment."""
    return {**tool_versions(tuple(dict.fromkeys(cap.tools + entry.requires)), missing="missing"),
            **formats.OWN_ENVIRONMENT_PINS.get(cap.converter, {})}


def run(request: ExportRequest, progress: Progress = lambda step: None,
        warn: Warn = lambda message: None, target: Target | None = None) -> list[ExportCell]:
    """Export ``request.model`` to every requested (format, precision).

    Each artifact is validated by its own agent process on ``target`` (this machine by
    default): a runtime that crashes or hangs costs that artifact, not the export.
    """
    from ..data.datasets import CalibrationSpec

    entry = zoo.get(request.model)
    caps, unsupported = _plan(request)
    limits.RESOLUTION.check(request.resolution)
    limits.VALIDATE_SAMPLES.check(request.validate_samples)
    limits.AGREEMENT.check(request.min_top1_agreement)
    limits.TIMEOUT.check(request.validation_timeout_s)
    progress("resolving weights")
    weights = zoo_weights.resolve(entry, request.weights)
    meta = weights.meta  # a checkpoint from `edgebench train`: its preprocessing and data set
    native = entry.preprocess if meta is None else Preprocess.from_dict(meta.preprocess)
    resolution = native.resolution if request.resolution is None else request.resolution
    limits.check_tensor_memory("--validate-samples", request.validate_samples, resolution)
    if request.calib is not None and not any(c.calibrated for c in caps):
        warn("--calib has no effect: no requested precision is calibrated (add --int8)")
    if request.min_top1_agreement is not None and not any(c.precision == "int8" for c in caps):
        warn("--min-top1-agreement has no effect without --int8")
    if request.dynamic_batch:
        static = [f for f in request.formats if not formats.FORMATS[f].dynamic_batch]
        if static:
            warn(f"--dynamic-batch does not apply to {', '.join(static)}: those artifacts keep a "
                 "static batch of 1 (benchmarks resize them at load time)")
    options = ExportOptions(resolution=resolution, opset=request.opset,
                            dynamic_batch=request.dynamic_batch, layout=request.layout)
    needs_calibration = any(c.calibrated for c in caps)
    default_calib = f"{meta.dataset}:{meta.train_split}" if meta else "fashion-mnist"
    calib = CalibrationSpec.parse(request.calib or default_calib) if needs_calibration else None
    if calib:
        limits.check_tensor_memory("--calib", calib.count, resolution)
    if calib and calib.is_random:
        warn("calibrating on random noise (--calib random): INT8 accuracy will suffer; "
             "use --calib fashion-mnist or a folder of real images")
    folder = request.out_dir / entry.name
    artifacts.ensure_writable(folder)
    # Two exports into one folder take turns: neither sees the other's half-made artifacts.
    with artifacts.locked(folder, lambda: warn(f"waiting for another export into {folder}")):
        export = _Export(request, entry, weights, options, calib.identity() if calib else None,
                         folder, native.at_resolution(resolution))
        return _run_locked(export, caps, unsupported, calib, progress, warn, target)


def _warn_if_replacing(path: Path, force: bool, warn: Warn) -> None:
    try:
        old = artifacts.read(path)
    except UserInputError:
        return  # a broken manifest is nothing worth keeping
    if old is not None and old.status in ("ok", "degraded"):
        why = "--force" if force else "other options, inputs or tool versions"
        warn(f"replacing the {old.status} artifact {path} ({why})")


def _run_locked(export: "_Export", caps, unsupported, calib, progress: Progress, warn: Warn,
                target: Target | None) -> list[ExportCell]:
    from ..targets.local import LocalTarget

    request, entry, weights, options, folder = (export.request, export.entry, export.weights,
                                                export.options, export.folder)

    keys, results, pending = {}, {}, []
    for cap in caps:
        keys[cap.key] = artifacts.cache_key({
            "model": entry.name, "weights": weights.identity, "capability": cap.key,
            "revision": EXPORT_REVISION,
            "options": asdict(options), "validate_samples": request.validate_samples,
            "tolerance": asdict(_tolerance(request, cap)),
            "calibration": export.calibration_id if cap.calibrated else None,
            "base": keys.get(_base_key(cap)),
            "tools": _tools(cap, entry)})
        hit = None if request.force else artifacts.find_cached(folder / cap.key, keys[cap.key])
        if hit:
            results[cap.key] = export.cell(cap, Status(hit.status), f"{hit.reason} (cache hit)",
                                           stage=Stage(hit.stage) if hit.stage else None,
                                           art=hit, cached=True)
        else:
            _warn_if_replacing(folder / cap.key, request.force, warn)
            pending.append(cap)
    if pending:
        owned = target is None
        target = target or LocalTarget()
        try:
            _export_pending(export, pending, keys, results, calib, target, progress, warn)
        finally:
            if owned:
                target.close()
    cells = [results[cap.key] for cap in caps]
    for fmt, precision, reason in unsupported:
        key = CellKey(model=entry.name, weights=weights.identity, format=fmt, precision=precision)
        cells.append(ExportCell(model=entry.name, format=fmt, precision=precision,
                                status=Status.UNSUPPORTED, reason=reason, stage=Stage.PLAN,
                                key=key.digest, weights=weights.identity))
    return cells


def _export_pending(export: _Export, pending, keys, results, calib, target: Target,
                    progress: Progress, warn: Warn) -> None:
    from ..data.datasets import held_out

    request, entry, options = export.request, export.entry, export.options
    exporters = {cap.key: cap.load_exporter() for cap in pending}
    progress(f"building {entry.name} ({export.weights.kind} weights) and its reference outputs")
    model = zoo_weights.build_model(entry, export.weights, options.resolution)
    preprocess = export.preprocess
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
                                 calibration.digests if calibration else frozenset(), export.dataset)
    for note in notes:
        warn(note)
    reference = _torch_outputs(model, validation.x)
    to_layout = (lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1))) \
        if options.layout == "nhwc" else (lambda a: a)
    import torch

    exported_model = zoo_weights.channels_last_input(model) if options.layout == "nhwc" else model
    inputs = to_layout(validation.x)
    calibration_inputs = to_layout(calibration.x) if calibration else None
    sample = torch.from_numpy(inputs[:1])
    scratch = Path(tempfile.mkdtemp(prefix="edgebench-validate-"))
    try:
        inputs_file = scratch / "inputs.npy"
        try:
            np.save(inputs_file, inputs)
        except OSError as e:  # numpy's short write carries no errno: a full disk or a quota
            raise OutputError(f"cannot write {entry.name}'s validation inputs to {scratch} "
                              f"({e}): free space there or point TMPDIR at a disk with room") from e
        check = _Check(target, target.put(inputs_file), reference, validation.source, scratch,
                       request.validation_timeout_s)
        for cap in pending:
            base = None
            if cap.precision != BASE_PRECISION:
                base_cell = results.get(_base_key(cap))
                if base_cell is None or base_cell.path is None:
                    results[cap.key] = export.cell(
                        cap, Status.EXPORT_FAILED, f"needs the {cap.format} FP32 artifact, which "
                        f"is {base_cell.status if base_cell else 'missing'}", stage=Stage.EXPORT)
                    continue
                base = artifacts.read(Path(base_cell.path)).model_file
            progress(f"exporting {cap.format} {cap.precision} ({cap.converter_description})")
            ctx = ExportContext(model=exported_model, sample=sample, options=options, base=base,
                                calibration=calibration_inputs if cap.calibrated else None)
            results[cap.key] = _export_one(
                export, cap, keys[cap.key], exporters[cap.key], ctx, preprocess, check,
                _tolerance(request, cap), calibration.source if cap.calibrated else None, progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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


@dataclass(frozen=True)
class _Check:
    """Validation through the agent: the held-out inputs are on the target once."""

    target: Target
    inputs: str  # target-side .npy, in the artifacts' layout
    reference: np.ndarray
    source: str  # where the inputs came from
    scratch: Path  # host folder for the outputs that come back
    timeout_s: float

    def outputs(self, cap: formats.Capability, files: list[Path], info):
        """The artifact's outputs from its validation runtime's agent, or the agent's reply."""
        dynamic = info.input_shape[0] == "batch"

        def upload(target: Target) -> ModelRef:
            return ModelRef(path=target.put(files[0]), format=cap.format, precision=cap.precision,
                            input_name=info.input_name, input_shape=info.input_shape,
                            sidecar=target.put(files[1]) if len(files) > 1 else None)

        # TFLite's own default is one thread; a dynamic batch is loaded once, run in chunks
        settings = RuntimeSettings(threads=os.cpu_count() or 1,
                                   batch=DYNAMIC_BATCH if dynamic else int(info.input_shape[0]))
        done = fetch(self.target, upload, cap.validated_by, settings, self.inputs, self.scratch,
                     cap.key, self.timeout_s)
        return done.values if done.ok else done.reply


def _dataset_entry(meta) -> DatasetInfo | None:
    """What eval needs to score an artifact without flags: its data set and class names."""
    if meta is None:
        return None
    return DatasetInfo(meta.dataset, meta.train_split, meta.eval_split, tuple(meta.classes),
                       meta.test_top1)


def _not_smaller(cap: formats.Capability, base: Path | None, size_bytes: int) -> str | None:
    """Why an artifact is no smaller than its FP32 base than its precision promises, or None."""
    ratio = formats.PRECISIONS[cap.precision].max_size_ratio
    if ratio is None or base is None or not cap.size_checked:
        return None
    base_bytes = artifacts.read(base.parent).manifest.size_bytes
    if size_bytes <= ratio * base_bytes:
        return None
    return (f"the {cap.precision} file is {size_bytes / base_bytes:.2f} of the FP32 one (expected at "
            f"most {ratio:g}): the converter kept most weights in FP32 (an older opset?)")


def _export_one(export: _Export, cap, key, exporter, ctx: ExportContext, preprocess,
                check: _Check, tolerance, calibration_source, progress: Progress) -> ExportCell:
    final = export.folder / cap.key
    runtime = cap.validated_by
    with artifacts.staging(final) as stage:
        started = time.perf_counter()
        try:
            info = exporter(ctx, stage / cap.file_name)
        except ExportError as e:
            return export.cell(cap, Status.EXPORT_FAILED, str(e), stage=Stage.EXPORT)
        export_seconds = time.perf_counter() - started
        progress(f"validating {cap.format} {cap.precision} in {runtime} on "
                 f"{len(check.reference)} samples")
        described = artifacts.describe_files(stage)
        outputs = check.outputs(cap, [stage / f.name for f in described], info)
        if not isinstance(outputs, np.ndarray):
            reply = outputs
            if not reply.status.is_verdict:  # crashed, timeout: nothing is kept, a rerun redoes it
                return export.cell(cap, reply.status, f"validation in {runtime}: {reply.reason}",
                                   stage=Stage.VALIDATE, signal=reply.signal)
            status, stage_of = reply.status, Stage.VALIDATE
            validation = Validation(Status.FAILED, f"{runtime} could not run it: {reply.reason}",
                                    len(check.reference), None, None, None, None, 0.0, tolerance,
                                    check.source)
        else:
            validation = compare(check.reference, outputs, tolerance, check.source)
            status = validation.outcome
            stage_of = None if status == Status.OK else Stage.VALIDATE
            too_big = _not_smaller(cap, ctx.base, sum(f.size_bytes for f in described))
            if too_big and status == Status.OK:
                status, stage_of = Status.DEGRADED, Stage.EXPORT
                validation = replace(validation, reason=f"{validation.reason}; {too_big}")
        counts = zoo.counts(export.entry.name)
        options = ctx.options
        classes = int(check.reference.shape[1])
        manifest = Manifest(
            model=ModelInfo(name=export.entry.name, family=export.entry.family,
                            resolution=options.resolution,
                            native_resolution=export.entry.resolution, num_classes=classes,
                            params=counts.params if counts else None,
                            macs=counts.macs if counts and options.resolution == counts.resolution
                            else None),
            weights=WeightsInfo(**export.weights.to_dict()),
            dataset=_dataset_entry(export.weights.meta),
            format=cap.format, precision=cap.precision, converter=cap.converter,
            converter_description=cap.converter_description,
            rescue_rung=RescueRung(cap.rung, cap.variant) if cap.variant else None,
            conversion=info.conversion, quantization=info.quantization,
            calibration=calibration_source, calibration_id=export._calibration(cap),
            input=info.input_spec(),
            output=TensorSpec(info.output_name, (info.input_shape[0], classes), "float32"),
            preprocess=replace(preprocess, layout=options.layout.upper()),
            files=described, tools=_tools(cap, export.entry),
            known_to_load=formats.known_to_load(export.entry.name, cap.format, cap.precision),
            export_seconds=round(export_seconds, 3), status=status, stage=stage_of,
            reason=validation.reason, validation=validation, validated_by=runtime, cache_key=key)
        art = artifacts.commit(stage, final, manifest)
    return export.cell(cap, status, manifest.reason, stage=stage_of, art=art)
