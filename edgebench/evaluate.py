"""``edgebench eval``: accuracy of artifacts on labelled data, each scored by the agent.

The host preprocesses each data set split once per (preprocessing, layout, input dtype)
into a tensor file; the agent's ``outputs`` job runs it through the artifact on the
target and returns the top-5 indices; scoring happens here. The FP32 PyTorch reference
runs through the same agent on the same tensor, so agreement and drop compare like with
like, and the same command works on any target.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from . import bench, formats, limits
from .data.labelled import DatasetSpec, Split
from .errors import UserInputError
from .outputs import InputTensors, Outputs, Tensor, fetch, select_runtimes
from .results import AccuracyCell, Stage, Status
from .runtimes import RuntimeSettings
from .targets import Target
from .targets.local import LocalTarget
from .zoo.spec import Preprocess

TOP_K = 5
DEFAULT_BATCH = 64  # dynamic-batch artifacts and PyTorch run in chunks of this size
DEFAULT_TIMEOUT_S = limits.EVAL_TIMEOUT_S
REFERENCE_RUNTIME = formats.reference_runtime().name


@dataclass(frozen=True)
class EvalRequest:
    """Everything ``edgebench eval`` was asked to do."""

    artifacts: tuple[str, ...]
    dataset: str | None = None  # D[:PATH][:split][:N]; None: each artifact's own data set
    runtime: str | None = None  # None: the format's reference runtime; or pinned: name==1.2.3
    weights: str = "random"  # for zoo:MODEL
    threads: int | None = None
    batch: int = DEFAULT_BATCH
    timeout_s: float = DEFAULT_TIMEOUT_S

    def check(self) -> None:
        limits.THREADS.check(self.threads)
        limits.BATCH.check(self.batch)
        limits.TIMEOUT.check(self.timeout_s)
        formats.parse_runtimes(self.runtime)


@dataclass(frozen=True)
class Item:
    """One thing to score: a source in one runtime, with what its inputs must look like."""

    source: bench.Source
    runtime: str
    preprocess: Preprocess
    layout: str  # NCHW | NHWC
    quantise: tuple[float, int, str] | None  # integer inputs: scale, zero point, dtype
    classes: tuple[str, ...] | None  # the class names it was trained with, when known
    num_classes: int | None
    own_dataset: str | None  # D:split it was trained for, when known
    batch: int

    @property
    def precision(self) -> str:
        return "fp32" if self.runtime == REFERENCE_RUNTIME else self.source.model.precision

    @property
    def reference_id(self) -> tuple:
        """Items with equal ids share one FP32 PyTorch reference."""
        return (self.source.model_name, self.source.weights, self.preprocess)


def _items(source: bench.Source, request: EvalRequest, unloadable_ok: bool = False) -> list[Item]:
    """The source in each runtime asked for whose table row loads it (its format's validating
    runtime when none is asked for); a source none of them loads is a one-line error (or
    nothing, with ``unloadable_ok``)."""
    fmt = source.model.format
    loading, refused = select_runtimes(fmt, source.model_name,
                                       formats.parse_runtimes(request.runtime), every=False)
    if loading or unloadable_ok:
        return [_item(source, request, c) for c in loading]
    if len(refused) == 1:
        raise UserInputError(f"{refused[0].reason} ({source.label})")
    raise UserInputError(f"none of --runtime {request.runtime} loads {fmt} ({source.label}): add "
                         f"one of {', '.join(formats.runtimes_for(fmt))}")


def items_of(request: EvalRequest, unloadable_ok: bool = False) -> list[tuple[str, Item]]:
    """(artifact as given, item) for every artifact in every runtime of ``request``."""
    return [(spec, item) for spec in request.artifacts
            for item in _items(bench.resolve(spec, request.weights), request, unloadable_ok)]


def _item(source: bench.Source, request: EvalRequest, choice: formats.RuntimeChoice) -> Item:
    from . import zoo
    from .zoo.weights import resolve as resolve_weights

    m = source.manifest
    if source.model.format in formats.reference_runtime().formats:
        entry = zoo.get(source.model_name)
        meta = resolve_weights(entry, source.weights_choice).meta
        preprocess = Preprocess.from_dict(meta.preprocess) if meta else entry.preprocess
        return Item(source, choice.spec, preprocess, "NCHW", None,
                    meta.classes if meta else None, len(meta.classes) if meta else entry.num_classes,
                    f"{meta.dataset}:{meta.eval_split}" if meta else None, request.batch)
    if m is None:
        raise UserInputError(f"{source.label} has no manifest.json, so its preprocessing is "
                             "unknown: evaluate an artifact folder made by edgebench export")
    runtime = choice.spec
    q = m.quantization.input if m.quantization else None
    dataset = m.dataset
    return Item(source, runtime, m.preprocessing(source.label), m.input.layout.upper(),
                (q.scale, q.zero_point, q.dtype) if q else None,
                dataset.classes if dataset else None, m.model.num_classes,
                dataset.eval_spec if dataset else None,
                request.batch if m.input.dynamic_batch else int(m.input.shape[0]))


def dataset_for(items: list[Item], request: EvalRequest) -> DatasetSpec:
    if request.dataset:
        return DatasetSpec.parse(request.dataset)
    own = {i.own_dataset for i in items}
    if len(own) == 1 and None not in own:
        return DatasetSpec.parse(own.pop())
    raise UserInputError("give --dataset (e.g. fashion-mnist:test or imagefolder:PATH): "
                         + ("the artifacts were trained on different data sets" if len(own) > 1
                            else "an artifact does not say which data set it was trained on"))


def _check_classes(item: Item, split: Split, warn) -> None:
    if item.num_classes is not None and item.num_classes != len(split.classes):
        raise UserInputError(
            f"{item.source.label} has {item.num_classes} classes but {split.name} has "
            f"{len(split.classes)}: evaluate it on "
            f"{item.own_dataset or 'the data set it was trained on'}, or train a head for "
            f"{split.dataset} (edgebench train)")
    if item.classes and tuple(item.classes) != tuple(split.classes):
        warn(f"{item.source.label} was trained with other class names than {split.name}'s: "
             "scoring by class index")


def run_item(item: Item, tensors: InputTensors, request: EvalRequest, target: Target,
             scratch: Path, top_k: int | None = TOP_K) -> Outputs:
    """``item``'s outputs on ``target`` (top-k indices, or every logit when ``top_k`` is None)."""
    tensor = tensors.get(item.preprocess, item.layout, item.quantise)
    if tensor.error is not None:
        return Outputs(None, tensor.error, 0.0)
    settings = RuntimeSettings(threads=request.threads or os.cpu_count() or 1, batch=item.batch)
    cell = bench.Cell(item.source, item.runtime, settings)
    return fetch(target, lambda t: bench.agent_model(cell, t), item.runtime, settings,
                 tensor.remote, scratch, f"outputs-{cell.key(target.name).digest}",
                 request.timeout_s, top_k)


def _score(indices: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]) -> dict:
    hit1 = indices[:, 0] == labels
    per_class = {name: round(100 * float(hit1[labels == c].mean()), 3)
                 for c, name in enumerate(classes) if (labels == c).any()}
    return {"top1": 100 * float(hit1.mean()),
            "top5": 100 * float((indices[:, :TOP_K] == labels[:, None]).any(1).mean()),
            "per_class": per_class}


def run(request: EvalRequest, target: Target, progress: Callable[[str], None] = lambda s: None,
        warn: Callable[[str], None] = lambda m: None) -> list[AccuracyCell]:
    """Score every artifact; one that fails to load or run is a typed row, never an abort."""
    request.check()
    items = [item for _, item in items_of(request)]
    spec = dataset_for(items, request)
    progress(f"reading {spec.text()}")
    split = spec.open("eval")
    for item in items:
        _check_classes(item, split, warn)
    dataset = spec.text(split.split)
    scratch = Path(tempfile.mkdtemp(prefix="edgebench-eval-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        tensors = InputTensors(split, target, scratch, warn)
        # The reference is FP32 PyTorch on this host: a board need not have torch.
        host, host_tensors = target, tensors
        if not target.is_host:
            host = stack.enter_context(LocalTarget())
            host_tensors = InputTensors(split, host, scratch, warn)
        references: dict[tuple, tuple[np.ndarray | None, str]] = {}
        outputs = {}
        # PyTorch rows first: each one is also the reference of the artifacts made from it
        for n in sorted(range(len(items)), key=lambda n: items[n].runtime != REFERENCE_RUNTIME):
            item = items[n]
            progress(f"preprocessing {split.name} for {item.source.label}")
            tensors.get(item.preprocess, item.layout, item.quantise)
            if item.runtime != REFERENCE_RUNTIME and item.reference_id not in references:
                references[item.reference_id] = reference_outputs(item, request, host, host_tensors,
                                                                  scratch, progress)
            progress(f"{item.source.label} in {item.runtime}")
            outputs[n] = run_item(item, tensors, request, target, scratch)
            if item.runtime == REFERENCE_RUNTIME and item.reference_id not in references:
                done = outputs[n]
                references[item.reference_id] = (done.values, "" if done.ok else
                                                 f"its FP32 PyTorch run failed ({done.reply.status})")
        rows = []
        for n, item in enumerate(items):
            tensor, done = tensors.get(item.preprocess, item.layout, item.quantise), outputs[n]
            rows.append(_cell(item, target, dataset, split, tensor, done,
                              *references[item.reference_id]))
        return rows


def reference_outputs(item: Item, request: EvalRequest, target: Target, tensors: InputTensors,
                      scratch: Path, progress,
                      top_k: int | None = TOP_K) -> tuple[np.ndarray | None, str]:
    """FP32 PyTorch's top-k (logits when ``top_k`` is None) on the same images (NCHW float),
    or why there is none."""
    from .errors import EdgebenchError

    source = item.source
    if source.model_name is None:
        return None, "no zoo model behind this artifact"
    try:
        ref_source = bench.resolve(f"{bench.ZOO_PREFIX}{source.model_name}", source.weights_choice)
    except EdgebenchError as e:
        return None, f"its FP32 PyTorch reference cannot be built ({e})"
    if ref_source.weights != source.weights:
        return None, (f"the weights at {source.weights_choice} changed since the export: its FP32 "
                      "PyTorch reference would be another model")
    ref_item = replace(item, source=replace(ref_source, model=replace(
        ref_source.model, resolution=item.preprocess.resolution)),
        runtime=REFERENCE_RUNTIME, layout="NCHW", quantise=None, batch=request.batch)
    progress(f"FP32 PyTorch reference for {source.model_name}")
    done = run_item(ref_item, tensors, request, target, scratch, top_k=top_k)
    if not done.ok:
        return None, (f"its FP32 PyTorch reference did not run ({done.reply.status}: "
                      f"{done.reply.reason})")
    return done.values, ""


def _key(item: Item, target: str, dataset: str, split: Split) -> str:
    """An accuracy cell's stable key: the runtime cell's, plus the exact images scored."""
    settings = RuntimeSettings(batch=item.batch)
    return replace(bench.Cell(item.source, item.runtime, settings).key(target),
                   dataset=f"{dataset}@{split.identity}").digest


def planned_keys(request: EvalRequest, target: str) -> dict[tuple[str, str], str]:
    """{(artifact, runtime): the key its accuracy cell will have on ``target``}, before anything
    runs, for each runtime of ``request`` that loads the artifact: what a sweep checks the
    store against."""
    pairs = items_of(request, unloadable_ok=True)
    if not pairs:
        return {}
    spec = dataset_for([item for _, item in pairs], request)
    split = spec.open("eval")
    dataset = spec.text(split.split)
    return {(a, item.runtime): _key(item, target, dataset, split) for a, item in pairs}


def _cell(item: Item, target: Target, dataset: str, split: Split, tensor: Tensor, done: Outputs,
          reference, why_not) -> AccuracyCell:
    source, reply, indices, labels = item.source, done.reply, done.values, tensor.labels
    common = dict(label=source.label, model=source.model_name, format=source.model.format,
                  precision=item.precision, runtime=item.runtime, target=target.name,
                  key=_key(item, target.name, dataset, split), dataset=dataset, dataset_id=split.identity, skipped=tensor.skipped,
                  note=tensor.note, seconds=round(done.seconds, 3),
                  tools={**dict(source.tools), **(reply.fingerprint or {}).get("versions", {})},
                  settings_used=reply.settings_used,
                  fingerprint=bench.target_fingerprint(reply, target) or None,
                  **source.identity())
    if indices is None:
        return AccuracyCell(status=reply.status, reason=reply.reason, stage=reply.stage,
                            signal=reply.signal, **common)
    scores = _score(indices, labels, split.classes)
    allowed = formats.PRECISIONS[item.precision].max_accuracy_drop
    cell = AccuracyCell(status=Status.OK, reason="", samples=len(labels),
                        top1=round(scores["top1"], 3), top5=round(scores["top5"], 3),
                        per_class=scores["per_class"], max_drop_points=allowed,
                        images_per_s=round(len(labels) / done.seconds, 1), **common)
    if reference is None:
        return replace(cell, reason=f"no agreement or drop: {why_not}")
    ref_top1 = 100 * float((reference[:, 0] == labels).mean())
    drop = ref_top1 - scores["top1"]
    cell = replace(cell, reference_top1=round(ref_top1, 3), drop_points=round(drop, 3),
                   top1_agreement=round(float((reference[:, 0] == indices[:, 0]).mean()), 5))
    if drop > allowed + 1e-9:
        return replace(cell, status=Status.DEGRADED, stage=Stage.VALIDATE,
                       reason=f"top-1 {scores['top1']:.2f}% is {drop:.2f} points below FP32 "
                              f"PyTorch's {ref_top1:.2f}% (allowed for {item.precision}: {allowed:g})")
    return cell
