"""``edgebench bench``: artifacts x runtimes, each cell measured by the agent in its own process."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from . import artifacts, formats, limits
from .errors import UserInputError
from .files import sha256_file
from .harness import HarnessSettings
from .manifest import Manifest
from .results import AgentReply, CellKey, LatencyCell, Stage, Status
from .runtimes import ModelRef, RuntimeSettings
from .outputs import select_runtimes
from .targets import Target, TargetError, run_agent

ZOO_PREFIX = "zoo:"
DEFAULT_TIMEOUT_S = limits.BENCH_TIMEOUT_S


@dataclass(frozen=True)
class BenchRequest:
    artifacts: tuple[str, ...]
    runtime: str | None = None  # None: every runtime that loads the format; "a,b==1.2": those
    settings: RuntimeSettings = RuntimeSettings()
    harness: HarnessSettings = HarnessSettings()
    timeout_s: float = DEFAULT_TIMEOUT_S
    weights: str = "random"  # for zoo:MODEL references

    def check(self) -> None:
        """One-line errors for settings no runtime could take (every number in its range)."""
        limits.THREADS.check(self.settings.threads)
        limits.BATCH.check(self.settings.batch)
        limits.WARMUP.check(self.harness.warmup_runs)
        limits.MIN_RUNS.check(self.harness.min_runs)
        limits.MIN_SECONDS.check(self.harness.min_seconds)
        limits.MAX_SECONDS.check(self.harness.max_seconds)
        limits.TIMEOUT.check(self.timeout_s)
        if self.harness.max_seconds < self.harness.min_seconds:
            raise UserInputError(f"--max-seconds {self.harness.max_seconds:g} is below --min-seconds "
                                 f"{self.harness.min_seconds:g}: raise --max-seconds")
        formats.parse_runtimes(self.runtime)


@dataclass(frozen=True)
class Source:
    """What one ARTIFACT argument names: host-side files and the identity of the model."""

    label: str
    model: ModelRef  # host-side paths
    model_name: str | None
    weights: str  # identity: "sha256:..." or "random:seed=N"
    weights_choice: str  # what rebuilds the PyTorch reference: imagenet | random | PATH
    size_bytes: int | None
    converter_description: str | None = None  # the tool that wrote the file, in words
    calibration: str | None = None
    tools: tuple[tuple[str, str], ...] = ()
    manifest: Manifest | None = field(default=None, compare=False, hash=False)  # artifacts only

    @property
    def converter(self) -> str | None:
        """The artifact's converter when it is not its format's own (``--converter``)."""
        return self.manifest.converter if self.manifest else None

    def identity(self) -> dict:
        """What a runtime cell records of the artifact's identity (its key's parts)."""
        return dict(converter=self.converter, weights=self.weights, calibration=self.calibration)


@dataclass(frozen=True)
class Cell:
    """One (source, runtime) to measure."""

    source: Source
    runtime: str  # a runtime, or one pinned to a version (onnxruntime==1.16.3): in the key
    settings: RuntimeSettings

    @property
    def precision(self) -> str:
        """What it runs in: the artifact's own, or what a runtime that takes precisions is asked
        for (its first, when not asked)."""
        asked = formats.row_of(self.runtime).precisions
        return (self.settings.precision or asked[0]) if asked else self.source.model.precision

    @property
    def compiles(self) -> bool:
        """Whether its load compiles (``settings_for`` leaves ``compile`` to the runtime that has
        that knob)."""
        return formats.settings_for(formats.row_of(self.runtime).name, self.settings).compile

    def key(self, target: str) -> CellKey:
        s = self.source
        return CellKey(model=s.model_name or Path(s.model.path or s.label).name, weights=s.weights,
                       format=s.model.format, precision=self.precision,
                       converter_description=s.converter_description,
                       calibration=s.calibration, runtime=self.runtime,
                       settings={**self.settings.key_dict(), **self._size()}, target=target,
                       tools=dict(s.tools))

    def _size(self) -> dict:
        """The input size when it is not the zoo entry's default (a sweep's ``resolution``):
        keys stored before the size was part of them stay valid for the default size."""
        from . import zoo

        try:
            default = zoo.get(self.source.model_name).resolution if self.source.model_name else None
        except UserInputError:  # an artifact of a model this version's zoo no longer has
            default = None
        size = self.source.model.resolution
        return {"resolution": size} if size and default and size != default else {}


def _from_manifest(label: str, art: artifacts.Artifact, weights_choice: str) -> Source:
    artifacts.verify_files(art)  # what runs is what was exported and validated
    m = art.manifest
    main, rest = art.model_file, [art.path / f.name for f in m.files[1:]]
    ref = ModelRef(
        path=str(main), format=m.format, precision=m.precision, input_name=m.input.name,
        input_shape=m.input.shape, input_dtype=m.input.dtype,
        sidecar=str(rest[0]) if rest else None, resolution=m.model.resolution)
    return Source(label, ref, m.model.name, m.weights.identity, m.weights.choice, m.size_bytes,
                  converter_description=m.converter_description, calibration=m.calibration_id,
                  tools=tuple(sorted(m.tools.items())), manifest=m)


def resolve(spec: str, weights: str = "random") -> Source:
    """An artifact folder, a model file or ``zoo:MODEL`` to what the agent loads."""
    if spec.startswith(ZOO_PREFIX):
        from . import zoo
        from .zoo.weights import resolve as resolve_weights

        entry = zoo.get(spec[len(ZOO_PREFIX):])
        resolved = resolve_weights(entry, weights)
        # a checkpoint from `edgebench train` knows the size it was trained at
        resolution = resolved.meta.preprocess["resolution"] if resolved.meta else entry.resolution
        ref = ModelRef(path=None, format=formats.reference_runtime().formats[0],
                       resolution=resolution)
        return Source(spec, ref, entry.name, resolved.identity, weights, None)
    path = Path(spec)
    if not path.exists():
        raise UserInputError(f"artifact {spec} does not exist: give an artifact folder, a model "
                             "file or zoo:MODEL")
    if not (path.is_dir() or path.is_file()):
        raise UserInputError(f"{spec} is not a regular file or folder (a device, FIFO or socket?): "
                             "give an artifact folder or a model file")
    if path.is_dir():
        art = artifacts.read(path)
        if art is not None:
            return _from_manifest(spec, art, weights)
        files = [p for p in sorted(path.iterdir()) if formats.format_of(p)]
        if len(files) != 1:
            raise UserInputError(f"{spec} has no manifest.json and {len(files)} model files: "
                                 "give the model file itself")
        path = files[0]
    fmt = formats.format_of(path)
    if fmt is None:
        suffixes = ", ".join(s for f in formats.FORMATS.values() for s in f.suffixes)
        raise UserInputError(f"{spec}: unknown model file type (expected {suffixes})")
    art = artifacts.read(path.parent)
    if art is not None and art.manifest.file.name == path.name:
        return _from_manifest(spec, art, weights)
    return Source(spec, ModelRef(path=str(path), format=fmt), None, f"sha256:{sha256_file(path)}",
                  weights, path.stat().st_size)


def plan(request: BenchRequest, target: str = "local") -> list[Cell | LatencyCell]:
    """Cells to measure, and cells the capability table already answers (unsupported)."""
    request.check()
    planned: list[Cell | LatencyCell] = []
    for spec in request.artifacts:
        source = resolve(spec, request.weights)
        asked = formats.parse_runtimes(request.runtime)
        loading, refused = select_runtimes(source.model.format, source.model_name, asked,
                                           every=True)
        refusals = {r.choice: r.reason for r in refused}
        # in the order asked for: a refused runtime is the table's answer, in its place
        for choice in asked or loading:
            cell = Cell(source, choice.spec, formats.settings_for(choice.runtime, request.settings))
            if choice in refusals:
                cell = not_measured(cell, request, target, Status.UNSUPPORTED, Stage.PLAN,
                                    refusals[choice])
            planned.append(cell)
    return planned


def not_measured(cell: Cell, request: BenchRequest, target: str, status: Status, stage: Stage,
                 reason: str) -> LatencyCell:
    """The cell's result when it did not run: the table's answer, or the way to it failed."""
    s = cell.source
    return LatencyCell(
        label=s.label, model=s.model_name, format=s.model.format, precision=cell.precision,
        runtime=cell.runtime, target=target, status=status, stage=stage,
        key=cell.key(target).digest, reason=reason, settings=cell.settings,
        harness=request.harness, size_bytes=s.size_bytes, tools=dict(s.tools), **s.identity())


def agent_model(cell: Cell, target: Target) -> ModelRef:
    """The cell's model with target-side paths (the torch reference built and described)."""
    ref = cell.source.model
    if formats.row_of(cell.runtime).reference:
        from . import zoo
        from .zoo.reference import torch_reference
        from .zoo.weights import resolve as resolve_weights

        entry = zoo.get(cell.source.model_name)
        resolution = ref.resolution or entry.resolution
        ref = torch_reference(entry, resolve_weights(entry, cell.source.weights_choice), resolution)
    return replace(ref, path=target.put(Path(ref.path)) if ref.path else None,
                   sidecar=target.put(Path(ref.sidecar)) if ref.sidecar else None)


def measure(cell: Cell, request: BenchRequest, target: Target) -> LatencyCell:
    """One cell through the agent on ``target``: a typed result whatever happens."""
    from .agent import Job

    try:
        job = Job(model=agent_model(cell, target), runtime=cell.runtime, settings=cell.settings,
                  harness=request.harness)
        reply = run_agent(target, job.to_dict(), request.timeout_s)
    except TargetError as e:  # the upload failed: the board, not the model
        reply = AgentReply(e.status, f"{target.name}: {e}", Stage.TRANSPORT)
    s = cell.source
    fingerprint = target_fingerprint(reply, target)
    reply = _check_execution(reply, cell.precision)
    return LatencyCell(
        label=s.label, model=s.model_name, format=s.model.format, precision=cell.precision,
        runtime=cell.runtime, target=target.name, status=reply.status, reason=reply.reason,
        key=cell.key(target.name).digest, stage=reply.stage,
        tools={**dict(s.tools), **fingerprint.get("versions", {})}, signal=reply.signal,
        size_bytes=s.size_bytes, settings=cell.settings, harness=request.harness,
        settings_used=reply.settings_used, latency=reply.latency, load_ms=reply.load_ms,
        first_inference_ms=reply.first_inference_ms, peak_rss_mb=reply.peak_rss_mb,
        throughput_ips=reply.throughput_ips, input_shape=reply.input_shape,
        output_shape=reply.output_shape, fingerprint=fingerprint or None, **s.identity())


def _check_execution(reply: AgentReply, precision: str) -> AgentReply:
    """A run the runtime reports in another precision than the artifact's is ``degraded``:
    its timings belong to that precision, not this one."""
    executed = (reply.settings_used or {}).get("executed_precision")
    allowed = formats.PRECISIONS[precision].executes_as if precision in formats.PRECISIONS else ()
    if reply.status != Status.OK or not executed or not allowed or executed in allowed:
        return reply
    return replace(reply, status=Status.DEGRADED, reason=(
        f"the runtime reports it ran {executed}, not the artifact's {precision}: these timings "
        f"are {executed}'s"))


def target_fingerprint(reply: AgentReply, target: Target) -> dict:
    """What the device said about itself, marked when the device is an emulation."""
    found = dict(reply.fingerprint or {})
    if found and target.emulated:
        found["emulated"] = True  # its latencies are not speeds
    return found


def run(request: BenchRequest, target: Target,
        progress: Callable[[str], None] = lambda step: None) -> list[LatencyCell]:
    """Measure every cell; a failing cell never stops the others."""
    rows = []
    for cell in plan(request, target.name):
        if isinstance(cell, LatencyCell):
            rows.append(cell)
            continue
        progress(f"{cell.source.label} in {cell.runtime}" +
                 (" (compiling: minutes on a first run)" if cell.compiles else ""))
        rows.append(measure(cell, request, target))
    return rows
