"""Layer-wise numerics: where an artifact loses precision against its PyTorch reference.

The reference's tensors are the outputs of its modules (forward hooks, the last call of a
module that runs twice); convolutions and batch norms are left out because every format
folds them into each other, so their outputs exist in none. Each remaining module is matched
to the artifact's last tensor that belongs to it (``readers``: by the module path the formats
keep in their names) and compared on the same inputs: cosine, PSNR and max abs error. The
INT8 rescue ladder's sensitivity pass ranks layers by how much PSNR each one loses.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .readers import OUTPUT

# module types whose outputs no exported graph keeps (folded into one another)
FOLDED = ("Conv1d", "Conv2d", "Conv3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Dropout",
          "Identity", "Flatten", "StochasticDepth")
PSNR_CAP_DB = 100.0  # an exact tensor: PSNR is infinite; plots and rankings use this


@dataclass(frozen=True)
class TensorDiff:
    """One matched tensor: the reference module's output against the artifact's."""

    module: str  # PyTorch module path
    kind: str  # its class
    op: str  # the artifact's op that wrote it
    tensor: str  # the artifact's name for that op
    shape: tuple
    cosine: float
    psnr_db: float
    max_abs: float


@dataclass(frozen=True)
class LayerDiff:
    artifact: str
    model: str
    format: str
    precision: str
    dataset: str
    samples: int
    rows: tuple[TensorDiff, ...]  # in the artifact's execution order
    unmatched: tuple[str, ...]  # reference modules with no tensor in the artifact

    def to_dict(self) -> dict:
        return {**asdict(self), "largest_drops": [r.module for r in largest_drops(self.rows, 5)]}


class _Reference:
    """The PyTorch model with forward hooks: one sample in, {module path: output} out (the
    last call of a module that runs twice; the model's own output under ``OUTPUT``)."""

    def __init__(self, module):
        import torch

        self._torch, self._module = torch, module
        self.kinds = {name: type(m).__name__ for name, m in module.named_modules()}
        self.kinds[OUTPUT] = type(module).__name__
        self._current: dict[str, np.ndarray] = {}
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in module.named_modules()
                         if name and self.kinds[name] not in FOLDED]

    def _hook(self, name):
        def record(mod, args, output):
            if isinstance(output, self._torch.Tensor):
                self._current.pop(name, None)  # the last call wins, and moves to the end
                self._current[name] = output.detach().float().numpy().copy()
        return record

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self._current = {}
        with self._torch.no_grad():
            out = self._module(self._torch.from_numpy(np.ascontiguousarray(x)))
        self._current[OUTPUT] = out.detach().float().numpy().copy()
        return self._current

    def close(self) -> None:
        for h in self._handles:
            h.remove()


def _aligned(ref: np.ndarray, art: np.ndarray) -> np.ndarray | None:
    if art.shape == ref.shape:
        return art
    if art.size == ref.size and art.squeeze().shape == ref.squeeze().shape:
        return art.reshape(ref.shape)
    return None


class _Stats:
    """Running sums over the samples: what cosine, PSNR and max abs error need."""

    def __init__(self):
        self.dot = self.ref_sq = self.art_sq = self.err_sq = 0.0
        self.count, self.peak, self.max_abs = 0, 0.0, 0.0

    def add(self, ref: np.ndarray, art: np.ndarray) -> None:
        a, b = ref.astype(np.float64).ravel(), art.astype(np.float64).ravel()
        self.dot += float(a @ b)
        self.ref_sq += float(a @ a)
        self.art_sq += float(b @ b)
        self.err_sq += float(((a - b) ** 2).sum())
        self.count += a.size
        if a.size:
            self.peak = max(self.peak, float(np.abs(a).max()))
            self.max_abs = max(self.max_abs, float(np.abs(a - b).max()))

    def metrics(self) -> tuple[float, float, float]:
        """(cosine, PSNR in dB against the reference's peak, max abs error)."""
        norms = math.sqrt(self.ref_sq * self.art_sq)
        cosine = self.dot / norms if norms > 0 else float(self.err_sq == 0)
        mse = self.err_sq / max(self.count, 1)
        psnr = PSNR_CAP_DB if mse == 0 else (10 * math.log10(self.peak ** 2 / mse) if self.peak > 0
                                             else -PSNR_CAP_DB)
        return cosine, min(psnr, PSNR_CAP_DB), self.max_abs


def metrics(ref: np.ndarray, art: np.ndarray) -> tuple[float, float, float]:
    """(cosine, PSNR in dB against the reference's peak, max abs error) of two arrays."""
    stats = _Stats()
    stats.add(ref, art)
    return stats.metrics()


def open_reader(fmt: str, path: Path, modules: frozenset[str], **options):
    """The artifact's ops in execution order (``readers.Tensor``) and a function that runs one
    sample and returns {op name: output} for the ops that belong to a module."""
    from .. import formats

    reader_path, _, func = formats.FORMATS[fmt].tensors.partition(":")
    return getattr(importlib.import_module(reader_path), func)(path, modules, **options)


def compare(module, reference_inputs: np.ndarray, fmt: str, path: Path, inputs: np.ndarray,
            **reader_options) -> tuple[tuple[TensorDiff, ...], tuple[str, ...]]:
    """Every reference module matched to ``path``'s tensors (format ``fmt``) on the same
    samples (one at a time: memory does not grow with their number): the rows in the
    artifact's order, and the modules with no match."""
    rows, unmatched, _ = compare_ops(module, reference_inputs, fmt, path, inputs, **reader_options)
    return rows, unmatched


def compare_ops(module, reference_inputs, fmt, path, inputs, **reader_options):
    """``compare``, and the artifact's ops (for the sensitivity pass)."""
    reference = _Reference(module)
    modules = frozenset(reference.kinds)
    try:
        ops, run_one = open_reader(fmt, path, modules, **reader_options)
        first = reference(reference_inputs[:1])
        if any(t.module not in ("", OUTPUT) for t in ops):
            chosen, placed = _by_name(ops, first)
        else:  # a converter that keeps no module names (onnx2tf): by execution order
            ops, run_one = open_reader(fmt, path, modules, read_all=True, **reader_options)
            chosen, placed = _by_order(ops, first, run_one(inputs[:1]))
        unmatched = [n for n in first if n != OUTPUT and n not in placed]
        if OUTPUT in chosen.values():  # named by the modules whose output is the model's
            i = next(i for i, n in chosen.items() if n == OUTPUT)
            aliases = [n for n in unmatched if np.array_equal(first[n], first[OUTPUT])]
            chosen[i] = max(aliases, key=len) if aliases else OUTPUT
            unmatched = [n for n in unmatched if n not in aliases]
        stats = {i: _Stats() for i in chosen}
        for k in range(len(inputs)):
            ref = first if k == 0 else reference(reference_inputs[k:k + 1])
            got = run_one(inputs[k:k + 1])
            for i, name in chosen.items():
                if stats[i] is None:
                    continue
                art = _aligned(ref[name], got[ops[i].name])
                if art is None:  # another shape: not the same tensor after all
                    stats[i] = None
                    continue
                stats[i].add(ref[name], art)
    finally:
        reference.close()
    rows = []
    for i in sorted(chosen):
        name = chosen[i]
        if stats[i] is None:
            unmatched.append(name)
            continue
        rows.append(TensorDiff(name, reference.kinds[name], ops[i].op, ops[i].name,
                               tuple(first[name].shape[1:]), *stats[i].metrics()))
    return tuple(rows), tuple(unmatched), ops


def _by_name(ops, first: dict) -> tuple[dict[int, str], set[str]]:
    """{op index: module}: each module's last read op inside it (the most specific module
    when several end on the same op); and every module that found its op."""
    position: dict[str, int] = {}
    for i, t in enumerate(ops):
        parts = t.module.split(".") if t.read and t.module else ()
        for depth in range(1, len(parts) + 1):
            position[".".join(parts[:depth])] = i
    chosen: dict[int, str] = {}
    for name in first:
        i = position.get(name)
        if i is not None and len(name) > len(chosen.get(i, "")):
            chosen[i] = name
    return chosen, set(position)


ORDER_WINDOW = 8  # same-shaped candidates looked at past the last match


def _by_order(ops, first: dict, got: dict) -> tuple[dict[int, str], set[str]]:
    """{op index: module} by execution order: each module's output against the next ops of
    the same shape, the closest (cosine) of the next ``ORDER_WINDOW`` taken; never before the
    op matched to the module before it."""
    chosen: dict[int, str] = {}
    placed: set[str] = set()
    start = 0
    for name, ref in first.items():
        if name == OUTPUT:  # the last module's output already
            continue
        candidates = [i for i in range(start, len(ops)) if ops[i].name in got
                      and _aligned(ref, got[ops[i].name]) is not None][:ORDER_WINDOW]
        if not candidates:
            continue
        best = max(candidates, key=lambda i: metrics(ref, _aligned(ref, got[ops[i].name]))[0])
        if len(name) > len(chosen.get(best, "")):
            chosen[best] = name
        placed.add(name)
        start = best
    return chosen, placed


def sensitive_ops(rows, tensors, share: float, least: int) -> tuple[str, ...]:
    """The artifact's op names (``Tensor.name``) of its most sensitive layers: for the first
    and last matched tensors, then those losing the most PSNR, every op that runs after the
    matched tensor before it up to this one (its conv, norm and activation)."""
    index = {t.name: i for i, t in enumerate(tensors)}
    count = max(least, round(share * len(rows)))
    ranked = [rows[0], rows[-1], *largest_drops(rows, len(rows))] if rows else []
    picked = list(dict.fromkeys(r.tensor for r in ranked))[:count]
    starts = sorted(index[r.tensor] for r in rows)
    names = []
    for tensor in picked:
        end = index[tensor]
        start = max((s for s in starts if s < end), default=-1) + 1
        names += [t.name for t in tensors[start:end + 1]]
    return tuple(dict.fromkeys(names))


def largest_drops(rows, count: int) -> list[TensorDiff]:
    """The rows that lose PSNR against the row before them, the largest loss first."""
    drops, before = [], PSNR_CAP_DB
    for row in rows:
        if before - row.psnr_db > 0:
            drops.append((before - row.psnr_db, row))
        before = row.psnr_db
    return [row for _, row in sorted(drops, key=lambda d: -d[0])[:count]]


@dataclass(frozen=True)
class DiffRequest:
    artifact: str
    samples: int = 16
    dataset: str | None = None  # default: the checkpoint's validation split, else Fashion-MNIST


DEFAULT_DATASET = "fashion-mnist:test"


def run(request: DiffRequest, progress=lambda s: None) -> LayerDiff:
    """``edgebench diff``: the artifact's tensors against its FP32 PyTorch reference."""
    from .. import artifacts, bench, limits, zoo
    from ..data.labelled import DatasetSpec, preprocess_split
    from ..errors import EdgebenchError, UserInputError, ValidationFailedError, first_line
    from ..zoo.weights import build_model, channels_last_input, resolve as resolve_weights

    limits.DIFF_SAMPLES.check(request.samples)
    source = bench.resolve(request.artifact)
    m = source.manifest
    if m is None or source.model_name is None or not artifacts.read(Path(request.artifact)):
        raise UserInputError(f"{request.artifact} is not an artifact folder made by edgebench "
                             "export: diff needs its manifest (the model and its preprocessing)")
    entry = zoo.get(source.model_name)
    weights = resolve_weights(entry, source.weights_choice)
    if weights.identity != source.weights:
        raise UserInputError(f"the weights at {source.weights_choice} changed since the export: "
                             "re-export the artifact, then diff it")
    preprocess = m.preprocessing(request.artifact)
    text = request.dataset or (m.dataset.eval_spec if m.dataset else DEFAULT_DATASET)
    split = DatasetSpec.parse(text).open().head(request.samples)
    progress(f"{len(split)} images of {split.name}")
    x = preprocess_split(split, preprocess, "NCHW").x
    module = build_model(entry, weights, preprocess.resolution).eval()
    layout = m.input.layout.upper()
    inputs = np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if layout == "NHWC" else x
    fmt = source.model.format
    progress(f"every tensor of {fmt}-{source.model.precision}")
    try:
        rows, unmatched = compare(channels_last_input(module) if layout == "NHWC" else module,
                                  inputs, fmt, Path(source.model.path), inputs,
                                  precision=source.model.precision)
    except EdgebenchError:
        raise
    except Exception as e:  # the runtimes raise many types on files they cannot run
        raise ValidationFailedError(f"{request.artifact}: {fmt} could not run every tensor of it: "
                                    f"{first_line(e)}; check it with `edgebench validate`") from e
    if not rows:
        raise UserInputError(f"no tensor of {request.artifact} could be matched to a module of "
                             f"{source.model_name}: was it exported by edgebench from this model?")
    return LayerDiff(request.artifact, source.model_name, fmt, source.model.precision, split.name,
                     len(x), rows, unmatched)
