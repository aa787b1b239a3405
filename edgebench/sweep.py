"""``edgebench sweep``: models x formats x precisions x runtimes x targets, into the store.

Artifacts are exported once (the export cache makes a second export a hit); each cell is
measured by the same code ``bench`` uses and committed to the store in its own transaction.
Cells run one at a time within a target, so timings never interfere, and targets run in
parallel. Run the same command again after a crash or Ctrl-C: cells the store already has
an answer for are skipped, transient failures are tried again.
"""

from __future__ import annotations

import threading
import time
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import Callable

from . import formats, limits, zoo
from .bench import BenchRequest, Cell, measure, not_measured, plan
from .errors import UserInputError
from .harness import HarnessSettings
from .executors import EXPORT, Executor, Item, LocalExecutor, board_resource
from .results import LatencyCell, Record, Stage, Status
from .runtimes import TORCH_MODES, RuntimeSettings
from .store import Store

DEFAULT_STORE = "edgebench.db"
_OWN_CONVERTERS = (formats.DEFAULT_CONVERTER,)  # the class's own field named formats hides the module


@dataclass(frozen=True)
class SweepConfig:
    """What one sweep measures. Every field is also a key of the TOML file."""

    models: tuple[str, ...]
    formats: tuple[str, ...] = tuple(formats.FORMATS)
    precisions: tuple[str, ...] = ("fp32",)
    # each format's own converter ("default"), and others (onnx2tf: TFLite FP32 and INT8)
    converters: tuple[str, ...] = _OWN_CONVERTERS
    runtimes: tuple[str, ...] = ()  # empty: every runtime that loads each format
    targets: tuple[str, ...] = ("local",)
    weights: str = "random"
    calib: str | None = None  # INT8 calibration source, as export's --calib; None: export's default
    validate_samples: int | None = None  # held-out samples each artifact is validated on
    dataset: str | None = None  # D[:split][:N]: also score every artifact (weights: a checkpoint)
    resolution: int | None = None
    threads: int | None = None
    batch: int = 1
    device: str = "cpu"
    torch_modes: tuple[str, ...] = ()  # also the PyTorch reference: eager, eager+graph, compiled+graph
    warmup_runs: int = 5
    min_runs: int = 30
    min_seconds: float = 2.0
    max_seconds: float = 300.0
    timeout_s: float = limits.BENCH_TIMEOUT_S
    out: str = "artifacts"
    store: str = DEFAULT_STORE
    cluster: str | None = None  # a Dask scheduler's address: run the work on its workers
    no_worker_timeout_s: float = 120.0  # on a cluster: how long a cell waits for its board's worker

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_toml(cls, path: Path) -> "SweepConfig":
        """Read and check a sweep file: line and column for bad TOML, the valid keys for bad ones."""
        try:
            text = Path(path).read_text()
            data = tomllib.loads(text)
        except FileNotFoundError as e:
            raise UserInputError(f"sweep file {path} does not exist: give a TOML file") from e
        except (OSError, UnicodeDecodeError) as e:
            raise UserInputError(f"cannot read sweep file {path}: {e}") from e
        except tomllib.TOMLDecodeError as e:
            lines = text.splitlines() or [""]
            where = f"at line {len(lines)}, column {len(lines[-1]) + 1}, the end of the file"
            raise UserInputError(f"{path} is not valid TOML: "
                                 f"{str(e).replace('at end of document', where)}") from e
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: dict, where: str = "the sweep") -> "SweepConfig":
        unknown = sorted(set(data) - set(cls.keys()))
        if unknown:
            raise UserInputError(f"{where}: unknown key {', '.join(unknown)}: valid keys are "
                                 f"{', '.join(cls.keys())}")
        values = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if not f.type.startswith("tuple") and not _fits(value, f.type):
                raise UserInputError(f"{where}: {f.name} = {value!r} is not a {f.type.split(' ')[0]}")
            if f.type.startswith("tuple"):
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise UserInputError(f"{where}: {f.name} must be a list of names")
                value = tuple(value)
            values[f.name] = value
        if "models" not in values:
            raise UserInputError(f"{where}: no models: add models = [\"resnet18\", ...]")
        config = cls(**values)
        config.check(where)
        return config

    def check(self, where: str = "the sweep") -> None:
        for name, table in (("models", None), ("formats", formats.FORMATS),
                            ("precisions", formats.PRECISIONS)):
            values = getattr(self, name)
            if not values:
                raise UserInputError(f"{where}: {name} is empty: the matrix has no cells")
            for value in values:
                if table is None:
                    zoo.get(value)  # an unknown model is a one-line error with suggestions
                elif value not in table:
                    raise UserInputError(f"{where}: unknown {name[:-1]} {value!r}: choose from "
                                         f"{', '.join(table)}")
        if not self.converters:
            raise UserInputError(f"{where}: converters is empty: name \"default\" for each "
                                 "format's own converter")
        for converter in self.converters:
            if converter not in formats.converters():
                raise UserInputError(f"{where}: unknown converter {converter!r}: choose from "
                                     f"{', '.join(formats.converters())}")
        try:
            for runtime in self.runtimes:  # names, or pinned NAME==VERSION
                formats.parse_runtime(runtime)
        except UserInputError as e:
            raise UserInputError(f"{where}: runtimes: {e}") from e
        if not self.targets:
            raise UserInputError(f"{where}: targets is empty: the matrix has no cells")
        for mode in self.torch_modes:
            if mode not in TORCH_MODES:
                raise UserInputError(f"{where}: unknown torch mode {mode!r}: choose from "
                                     f"{', '.join(TORCH_MODES)}")
        limits.RESOLUTION.check(self.resolution)
        limits.VALIDATE_SAMPLES.check(self.validate_samples)
        limits.NO_WORKER_TIMEOUT.check(self.no_worker_timeout_s)
        if self.dataset is not None:
            from .data.labelled import DatasetSpec

            DatasetSpec.parse(self.dataset)  # a bad spelling fails before any export
        self.bench_request(()).check()

    def bench_request(self, artifacts: tuple[str, ...], runtime: str | None = None) -> BenchRequest:
        return BenchRequest(
            artifacts=artifacts, runtime=runtime, timeout_s=self.timeout_s, weights=self.weights,
            settings=RuntimeSettings(device=self.device, threads=self.threads, batch=self.batch),
            harness=HarnessSettings(warmup_runs=self.warmup_runs, min_runs=self.min_runs,
                                    min_seconds=self.min_seconds, max_seconds=self.max_seconds))

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _fits(value, annotation: str) -> bool:
    """A TOML value against a field's type (written as a string: annotations are postponed)."""
    kinds = {"int": (int,), "float": (int, float), "str": (str,), "None": ()}
    allowed = tuple(t for name in annotation.split(" | ") for t in kinds.get(name, ()))
    return isinstance(value, allowed) and not isinstance(value, bool)


@dataclass
class SweepResult:
    """What one sweep did: the run, and what it measured now versus found in the store."""

    run_id: int
    measured: list[Record] = field(default_factory=list)
    skipped: int = 0  # cells the store already had an answer for


Step = Callable[[int, int, str], None]


def _export(config: SweepConfig, model: str) -> list:
    """Where the executor runs exports: the export cells, then any warnings (strings)."""
    from .export import ExportRequest, run as export

    warnings: list[str] = []
    cells = []
    for name in config.converters:
        converter = formats.converter_name(name)
        made = formats.made_by(converter)
        # another converter makes only some of the matrix: those cells, not "unsupported" rows
        # that would share their keys with the default converter's cells
        fmts = tuple(f for f in config.formats if f in made)
        precisions = tuple(p for p in config.precisions if converter is None or any(
            c.precision == p and c.converter == converter and c.format in fmts
            for c in formats.CAPABILITIES))
        if not fmts or not precisions:
            warnings.append(f"converter {name} makes none of formats {', '.join(config.formats)} "
                            f"at precisions {', '.join(config.precisions)}: nothing to export")
            continue
        validation = {} if config.validate_samples is None else {
            "validate_samples": config.validate_samples}
        cells += export(ExportRequest(model=model, formats=fmts, precisions=precisions,
                                      weights=config.weights, resolution=config.resolution,
                                      calib=config.calib, out_dir=Path(config.out),
                                      explicit_formats=False, converter=converter, **validation),
                        warn=warnings.append)
    return [*cells, *warnings]


def _measure(cell: Cell, request: BenchRequest, target: str) -> list:
    """Where the executor runs cells: one cell on ``target``, opened once per process."""
    from . import executors

    return [measure(cell, request, executors.target(target))]


def _accuracy(request, target: str) -> list:
    """Where the executor runs accuracy: every artifact of ``request`` on ``target``."""
    from . import executors
    from .evaluate import run as evaluate

    return list(evaluate(request, executors.target(target)))


def _lost_cell(cell: Cell, request: BenchRequest, target: str, reason: str) -> list:
    return [not_measured(cell, request, target, Status.INFRA_ERROR, Stage.TRANSPORT, reason)]


def _lost_batch(what: str, reason: str) -> list:
    return [f"{what} did not finish: {reason}; run the sweep again for it"]


def _cells(config: SweepConfig, artifacts: list[str], target: str) -> list[Cell | LatencyCell]:
    planned = []
    for runtime in config.runtimes or (None,):  # a runtime that cannot load a format: unsupported
        planned += plan(config.bench_request(tuple(artifacts), runtime), target)
    row = formats.reference_runtime()
    reference = config.bench_request(tuple(f"zoo:{m}" for m in config.models), row.name)
    torch_precisions = row.precisions
    for precision in (p for p in config.precisions if p in torch_precisions):
        for mode in config.torch_modes:
            settings = replace(reference.settings, precision=precision).with_torch_mode(mode)
            planned += [_at_resolution(c, config.resolution)
                        for c in plan(replace(reference, settings=settings), target)]
    return planned


def _at_resolution(cell: Cell | LatencyCell, resolution: int | None) -> Cell | LatencyCell:
    """A PyTorch reference cell at the sweep's input size, as its exports were made."""
    if not resolution or isinstance(cell, LatencyCell):
        return cell
    model = replace(cell.source.model, resolution=resolution)
    return replace(cell, source=replace(cell.source, model=model))


def run(config: SweepConfig, store: Store, argv: list[str], step: Step = lambda d, t, s: None,
        warn=lambda m: None, executor: Executor | None = None) -> SweepResult:
    """Export, then measure every cell the store has no answer for; commit each as it ends.

    ``executor`` says where the work runs (default: here); the results always come back to
    this process and are committed here, one transaction per cell.
    """
    from . import fingerprint

    executor = executor or LocalExecutor()
    result = SweepResult(store.begin_run(argv, config.to_dict(), fingerprint.collect()))
    lock = threading.Lock()  # one writer at a time on the store's connection
    by_model: dict[str, list[str]] = {}

    def commit(record: Record, started: float) -> None:
        with lock:
            store.record(result.run_id, record, started)
            result.measured.append(record)

    def exported(item: Item, started: float, records: list, retriable: bool) -> list[Item]:
        for record in records:
            if isinstance(record, str):
                warn(record)
                continue
            if not store.is_done(record.key):
                commit(record, started)
            if record.path:
                by_model.setdefault(item.args[1], []).append(record.path)
        return []

    step(0, 0, f"export {', '.join(config.models)}")
    executor.run([Item(f"export {m}", EXPORT, _export, (config, m), partial(_lost_batch, f"export of {m}"))
                  for m in config.models], exported)
    artifacts = [a for m in config.models for a in by_model.get(m, [])]  # in the file's order
    if not artifacts:
        executor.close()
        store.finish_run(result.run_id)
        return result
    request = config.bench_request(())
    items: list[Item] = []
    for target in config.targets:
        for cell in _cells(config, artifacts, target):
            if store.is_done(_key(cell, target)):
                result.skipped += 1
            elif isinstance(cell, LatencyCell):  # the capability table's answer: nothing to run
                commit(cell, time.time())
            else:
                items.append(Item(f"{target}: {cell.source.label} in {cell.runtime}",
                                  board_resource(target), _measure, (cell, request, target),
                                  partial(_lost_cell, cell, request, target)))
        items += [Item(f"{target}: accuracy in {r.runtime}", board_resource(target), _accuracy,
                       (r, target), partial(_lost_batch, f"accuracy in {r.runtime} on {target}"))
                  for r in _accuracy_requests(config, artifacts, target, store)]
    total, done = [len(items)], [0]

    def measured(item: Item, started: float, records: list, retriable: bool) -> list[Item]:
        again = []
        for record in records:
            if isinstance(record, str):
                warn(record)
                continue
            commit(record, started)
            if retriable and record.status == Status.INFRA_ERROR and not store.is_done(record.key):
                again.append(replace(item, attempt=item.attempt + 1))
        with lock:
            done[0] += 1
            total[0] += len(again)
            status = records[0].status.value if len(records) == 1 and not isinstance(records[0], str) \
                else f"{len(records)} results"
            step(done[0], total[0], f"{item.name}: {status}")
        return again

    try:
        executor.run(items, measured)
    finally:
        executor.close()
    store.finish_run(result.run_id)
    return result


def _accuracy_requests(config: SweepConfig, artifacts: list[str], target: str, store: Store) -> list:
    """One evaluation per runtime, of the artifacts the store has no accuracy for on ``target``."""
    if not config.dataset:
        return []
    from .evaluate import EvalRequest, planned_keys

    request = EvalRequest(artifacts=tuple(artifacts), dataset=config.dataset,
                          runtime=",".join(config.runtimes) or None, weights=config.weights,
                          threads=config.threads, timeout_s=config.timeout_s)
    missing: dict[str, list[str]] = {}  # runtime -> artifacts it has no answer for
    for (artifact, runtime), key in planned_keys(request, target).items():
        if not store.is_done(key):
            missing.setdefault(runtime, []).append(artifact)
    return [replace(request, artifacts=tuple(mine), runtime=runtime) for runtime, mine in missing.items()]


def _key(cell: Cell | LatencyCell, target: str) -> str:
    return cell.key if isinstance(cell, LatencyCell) else cell.key(target).digest


def with_store(config: SweepConfig, store_path: str | None) -> SweepConfig:
    return replace(config, store=store_path) if store_path else config


def executor_for(config: SweepConfig) -> Executor:
    """Dask workers when the sweep names a cluster, else this machine."""
    if not config.cluster:
        return LocalExecutor()
    from .executors.cluster import DaskExecutor

    return DaskExecutor(config.cluster, config.no_worker_timeout_s)
