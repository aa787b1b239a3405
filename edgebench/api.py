"""The Python API: what a notebook calls, and what the ``edgebench`` command is a thin layer over.

Each function takes a typed request (or keyword arguments that build one: the request's own
field names), returns typed records, prints nothing and raises the typed errors of
``errors.py``. Progress and warnings go only to the optional callbacks. A cell that failed is a
record with its status, not an exception: what a status means for an exit code is the command
line's policy (``cli/exits.py``). The frameworks are imported by the modules doing the work,
when they do it, so importing this module costs nothing.

    import edgebench
    result = edgebench.export("resnet18", weights="random", resolution=64, formats=("onnx",))
    cells = edgebench.bench([c.path for c in result.cells], min_runs=10)
"""

from __future__ import annotations

import math
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterable

from . import errors, zoo
from . import formats as table  # `formats` is also a field of the export request
from .targets import LOCAL

Text = Callable[[str], None]
Count = Callable[[int, int, str], None]  # done, total, what is happening
DEFAULT_STORE = Path("edgebench.db")


def _ignore(*_args) -> None:
    """The callbacks' default: a notebook sees the returned records, nothing else."""


def _request(cls, given, options: dict, **built):
    """``given`` when it is already a ``cls``; else ``cls`` of it, ``built`` and ``options``."""
    if isinstance(given, cls):
        if options or built:
            raise errors.UserInputError(f"give a {cls.__name__} or keyword options, not both "
                                        f"(got {', '.join([*options, *built])})")
        return given
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise errors.UserInputError(f"{cls.__name__} has no field {', '.join(unknown)}: choose "
                                    f"from {', '.join(sorted(known))}")
    return cls(given, **built, **options)


def _taken(options: dict, cls) -> dict:
    """The options named like ``cls``'s fields, removed from ``options``."""
    names = {f.name for f in fields(cls)}
    return {name: options.pop(name) for name in list(options) if name in names}


def _paths(artifacts) -> tuple[str, ...]:
    """One artifact (folder, file, zoo:MODEL) or several, as the requests hold them."""
    if isinstance(artifacts, (str, Path)):
        return (str(artifacts),)
    return tuple(str(a) for a in artifacts)


@contextmanager
def _target(target):
    """A target given by name ('local' or a board from `edgebench targets list`) is opened and
    closed here; an open one is the caller's to close."""
    if not isinstance(target, str):
        yield target
        return
    from .targets import open_target

    with open_target(target) as opened:
        yield opened


@contextmanager
def _recording(store):
    """``record(cells, started)`` adds a command's cells to the results store as one run, one
    transaction each. The store is opened, and so checked, before any work starts."""
    from .store import Store

    if store is None:
        yield _ignore
        return
    with ExitStack() as stack:
        opened = store if isinstance(store, Store) else stack.enter_context(Store(store))

        def record(cells: list, started: float) -> None:
            from .fingerprint import collect

            run_id = opened.begin_run(sys.argv, {}, collect())
            for cell in cells:
                opened.record(run_id, cell, started)
            opened.finish_run(run_id)

        yield record


# ---- export ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    """An export's artifacts and, with an accuracy floor, each format's INT8 rescue ladder."""

    cells: tuple  # ExportCell, one per (format, precision)
    ladders: tuple = ()  # export.rescue.Ladder, one per format with an INT8 artifact
    floor: object | None = None  # export.rescue.AccuracyFloor the ladders climbed to

    def judged(self) -> list:
        """The cells whose status is their verdict: with a floor, the ladder judges INT8."""
        return [c for c in self.cells if self.floor is None or c.precision != "int8"]

    def unmet(self) -> list:
        return [x for x in self.ladders if not x.met]

    def to_dict(self):
        cells = [c.to_dict() for c in self.cells]
        if self.floor is None:
            return cells
        return {"exports": cells, "rescue": [x.to_dict() for x in self.ladders]}


def export_request(model: str, /, *, formats: Iterable[str] | None = None,
                   precisions: Iterable[str] = ("fp32",), converter: str | None = None,
                   **options):
    """An ``export.ExportRequest`` as ``edgebench export`` builds it: every format the converter
    makes unless ``formats`` names some (then an unsupported pair is an error), FP32 always."""
    from .export import ExportRequest

    converter = table.converter_name(converter)
    asked = None if formats is None else tuple(dict.fromkeys(formats))
    for name in asked or ():
        table.check_format(name)
    return _request(ExportRequest, model, options, precisions=tuple(dict.fromkeys(
        ("fp32", *precisions))), formats=asked or table.made_by(converter),
        explicit_formats=asked is not None, converter=converter)


def export(model, /, *, accuracy_floor=None, floor_samples: int | None = None,
           progress: Text = _ignore, warn: Text = _ignore, **options) -> ExportResult:
    """Export ``model`` (a zoo name with ``ExportRequest`` fields as keywords, or a request) and
    validate every artifact; with ``accuracy_floor`` ('99%', '-1pt'), climb the INT8 rescue
    ladder of each format below it."""
    from .export import ExportRequest, run
    from .export import rescue

    request = _request(ExportRequest, model, options) if isinstance(model, ExportRequest) \
        else export_request(model, **options)
    floor = rescue.AccuracyFloor.parse(accuracy_floor) if isinstance(accuracy_floor, str) \
        else accuracy_floor
    if floor is not None and "int8" not in request.precisions:
        raise errors.UserInputError("--accuracy-floor judges INT8 artifacts: add --int8")
    if floor_samples is not None and floor is None:
        raise errors.UserInputError("--floor-samples has no effect without --accuracy-floor")
    if floor is not None and request.converter is not None:
        raise errors.UserInputError(f"--accuracy-floor climbs each format's own converter's rungs, "
                                    f"not {request.converter}'s: drop --converter or --accuracy-floor")
    cells = run(request, progress, warn)
    ladders = rescue.run(request, cells, floor, floor_samples, progress, warn) if floor else []
    return ExportResult(tuple(cells), tuple(ladders), floor)


# ---- measure --------------------------------------------------------------------------------

def bench_request(artifacts, /, **options):
    """A ``bench.BenchRequest``; ``RuntimeSettings`` and ``HarnessSettings`` fields (threads,
    batch, min_runs...) may be given flat, beside the request's own."""
    from .bench import BenchRequest
    from .harness import HarnessSettings
    from .runtimes import RuntimeSettings

    if isinstance(artifacts, BenchRequest):
        return _request(BenchRequest, artifacts, options)
    settings, timing = _taken(options, RuntimeSettings), _taken(options, HarnessSettings)
    built = {"settings": RuntimeSettings(**settings)} if settings else {}
    built.update({"harness": HarnessSettings(**timing)} if timing else {})
    return _request(BenchRequest, _paths(artifacts), options, **built)


def bench(artifacts, /, *, target=LOCAL, store=None, progress: Text = _ignore,
          **options) -> list:
    """Latency of ``artifacts`` (folders, model files, zoo:MODEL; or a ``BenchRequest``) on
    ``target`` (a name or an open target): one ``LatencyCell`` per artifact and runtime."""
    from .bench import run

    request = bench_request(artifacts, **options)
    request.check()
    with _recording(store) as record, _target(target) as where:
        started = time.time()
        cells = run(request, where, progress)
        record(cells, started)
    return cells


def eval_request(artifacts, /, **options):
    from .evaluate import EvalRequest

    if isinstance(artifacts, EvalRequest):
        return _request(EvalRequest, artifacts, options)
    return _request(EvalRequest, _paths(artifacts), options)


def evaluate(artifacts, /, *, target=LOCAL, store=None, progress: Text = _ignore,
             warn: Text = _ignore, **options) -> list:
    """Accuracy of ``artifacts`` on labelled data (``EvalRequest`` fields as keywords): one
    ``AccuracyCell`` per artifact and runtime."""
    from .evaluate import run

    request = eval_request(artifacts, **options)
    request.check()
    with _recording(store) as record, _target(target) as where:
        started = time.time()
        cells = run(request, where, progress, warn)
        record(cells, started)
    return cells


def validate(artifacts, /, *, target, progress: Text = _ignore, **options) -> list:
    """``artifacts`` on a board against the same on this host: one ``compat.CompatRow`` each."""
    from .compat import against_host

    if (target == LOCAL) if isinstance(target, str) else target.is_host:
        raise errors.UserInputError("validate compares a target with this host: name a board "
                                    "(--target rpi4)")
    request = eval_request(artifacts, **options)
    request.check()
    with _target(target) as where:
        return against_host(request, where, progress)


def diff(artifact, /, *, samples: int = 16, dataset: str | None = None,
         progress: Text = _ignore):
    """Layer-wise numerics of one artifact against its FP32 PyTorch reference (``LayerDiff``)."""
    from .layerwise import DiffRequest, run

    request = artifact if isinstance(artifact, DiffRequest) else DiffRequest(str(artifact), samples,
                                                                              dataset)
    return run(request, progress)


def train(model, /, *, store=None, progress: Count = _ignore, log: Text = _ignore,
          warn: Text = _ignore, **options):
    """Fine-tune ``model`` on a labelled data set (``TrainRequest`` fields as keywords, or a
    request); ``log`` gets a line per epoch. Returns the ``TrainResult``."""
    from .train import TrainProgress, TrainRequest, run

    request = _request(TrainRequest, model, options)
    request.check()
    with _recording(store) as record:
        started = time.time()
        result = run(request, warn, TrainProgress(step=progress, line=log))
        record([result], started)
    return result


def sweep(config, /, *, argv: list[str] | None = None, progress: Count = _ignore,
          warn: Text = _ignore):
    """Measure a matrix into its results store (``config``: a ``SweepConfig`` or a TOML file);
    only cells the store has no answer for run. Returns the ``SweepResult``."""
    from .store import Store
    from .sweep import SweepConfig, executor_for, run

    config = config if isinstance(config, SweepConfig) else SweepConfig.from_toml(Path(config))
    with Store(config.store) as store, store.exclusive():
        return run(config, store, sys.argv if argv is None else argv, progress, warn,
                   executor_for(config))


# ---- read the store -------------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    """The compatibility grid of a results store and, per target, what to ship."""

    grid: list  # report.matrix.Row
    recommendations: list  # report.matrix.Recommendation
    runs: list[dict]

    def to_dict(self) -> dict:
        return {"runs": self.runs, "cells": [r.to_dict() for r in self.grid],
                "recommendations": [{"target": r.target, "why": r.why,
                                     "fastest": r.fastest.to_dict() if r.fastest else None,
                                     "smallest": r.smallest.to_dict() if r.smallest else None}
                                    for r in self.recommendations]}

    def to_markdown(self) -> str:
        from .report.matrix import to_markdown

        return to_markdown(self.grid, self.recommendations)

    def to_csv(self) -> str:
        from .report.matrix import to_csv

        return to_csv(self.grid)

    def to_html(self) -> str:
        from .report.html import render

        return render(self.grid, self.recommendations, self.runs)


@contextmanager
def _results(path, runs: Iterable[int | None] = ()):
    """The store at ``path`` for reading: it must exist and hold every run asked for."""
    from .store import Store

    path = Path(path)
    if not path.exists():
        raise errors.UserInputError(f"no results store at {path}: run edgebench sweep first "
                                    "(or give --store)")
    with Store(path) as store:
        for wanted in runs:
            if wanted is not None and not store.run_exists(wanted):
                ids = [r["id"] for r in store.runs()]
                raise errors.UserInputError(f"run {wanted} is not in {path}: its runs are "
                                            f"{', '.join(map(str, ids)) or 'none'}")
        yield store


def report(store=DEFAULT_STORE, /, *, run: int | None = None, floor_points: float | None = None
           ) -> Report:
    """The grid of the latest answer of every cell (of one run, when given), and per target the
    fastest and the smallest working cell losing at most ``floor_points`` top-1 against FP32."""
    from .report.matrix import DEFAULT_FLOOR_POINTS, recommend, rows

    floor_points = DEFAULT_FLOOR_POINTS if floor_points is None else floor_points
    if not math.isfinite(floor_points) or floor_points < 0:
        raise errors.UserInputError(f"--floor {floor_points}: give a number of points, 0 or more")
    with _results(store, [run]) as opened:
        attempts = opened.latest_attempts(run)
        runs = opened.runs()
    grid = rows(attempts)
    return Report(grid, recommend(grid, floor_points), runs)


def diff_runs(store, run_a: int, run_b: int, /):
    """What changed from ``run_a`` to ``run_b`` of a store (``report.diff.Diff``)."""
    from .report.diff import compare as compare_runs

    with _results(store, [run_a, run_b]) as opened:
        a, b = ([x.record for x in opened.latest_attempts(r)] for r in (run_a, run_b))
    return compare_runs(run_a, a, run_b, b)


@dataclass(frozen=True)
class Comparison:
    """Two models side by side, and the published claims with what was measured here."""

    models: list[dict]
    claims_source: str
    claims: list  # compare.Verdict

    def to_dict(self) -> dict:
        return {"models": self.models, "claims_source": self.claims_source,
                "claims": [v.to_dict() for v in self.claims]}


def compare(model_a: str, model_b: str, /, *, store=DEFAULT_STORE, target: str | None = None,
            warn: Text = _ignore) -> Comparison:
    """``model_a`` against ``model_b`` from the zoo and the store's measurements (``target``:
    only its latencies), and the published EfficientNet-vs-ResNet claims checked on them."""
    from .compare import check_claims, models_side_by_side
    from .store import Store

    zoo.get(model_a), zoo.get(model_b)
    records = []
    if Path(store).exists():
        with Store(store) as opened:
            records = opened.cells()
    else:
        warn(f"no results store at {store}: only the zoo's figures (edgebench sweep measures "
             "the rest)")
    source, verdicts = check_claims(records)
    return Comparison(models_side_by_side(model_a, model_b, records, target), source, verdicts)


# ---- the zoo and the table ------------------------------------------------------------------

def model_row(name: str) -> dict:
    """One zoo entry's summary: what `edgebench list` shows."""
    entry = zoo.get(name)
    counts = zoo.counts(name)
    return {
        "name": name,
        "family": entry.family,
        "params_m": round(counts.params_m, 3) if counts else None,
        "gmacs": round(counts.gmacs, 3) if counts else None,
        "resolution": entry.resolution,
        "ref_top1": entry.ref_top1,
    }


def models(pattern: str | None = None) -> list[dict]:
    """The model zoo, optionally filtered by a glob ``pattern``."""
    return [model_row(n) for n in zoo.list_models(pattern)]


def model_info(name: str) -> dict:
    """One zoo entry in full: metadata, preprocessing, weights sources."""
    entry = zoo.get(name)
    imagenet = entry.imagenet
    return {
        **model_row(name),
        "num_classes": entry.num_classes,
        "ref_top1_source": entry.ref_source or None,
        "preprocess": entry.preprocess.to_dict(),
        "classifier_weight": entry.head,
        "weights": {
            "imagenet": {"source": imagenet.describe(),
                         "available_offline": imagenet.locate() is not None} if imagenet else None,
            "random": "seeded random init (latency-only work)",
            "checkpoint": "PATH to a .pt/.pth/.safetensors state_dict (class count from its head)",
        },
        "requires": list(entry.requires),
        "description": entry.description or None,
    }


def capabilities() -> list[dict]:
    """The capability table: format x precision x converter x runtimes, first one validating."""
    return [{"format": c.format, "precision": c.precision, "converter": c.converter_description,
             "converter_option": c.converter or table.DEFAULT_CONVERTER,
             "runtimes": list(c.runtimes), "validated_by": c.validated_by,
             "calibrated": c.calibrated, "tolerance": c.tolerance.to_dict()}
            for c in table.CAPABILITIES]
