"""``edgebench train``: transfer learning onto a labelled data set, to a checkpoint that
``export`` and ``eval`` understand without other flags.

A new classifier head sized to the data set's classes; the backbone starts from ImageNet
weights where they are on this machine (else from random init, said out loud). Full
training is channels-last (5x faster than NCHW for EfficientNet on these CPUs) with random
crops and flips, AdamW and a one-cycle schedule. ``freeze_backbone`` extracts the frozen
backbone's features once and trains only the head on them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import limits, zoo
from .data.labelled import DatasetSpec, Split, Tensors, preprocess_split
from .errors import CheckpointError, OutputError, UserInputError
from .results import CellKey, TrainResult
from .zoo.spec import Preprocess
from .zoo.weights import META_KEY, CheckpointMeta, ResolvedWeights, build_model
from .zoo.weights import resolve as resolve_weights

CHECKPOINT_SUFFIXES = (".pt", ".safetensors")
EVAL_BATCH = 256
SEED = 0


@dataclass(frozen=True)
class TrainRequest:
    """Everything ``edgebench train`` was asked to do."""

    model: str
    dataset: str  # D[:PATH][:split][:N]; the train split unless one is named
    epochs: int = 5
    resolution: int | None = None  # None: the data set's recipe size, else the model's own
    freeze_backbone: bool = False
    lr: float = 3e-3
    batch: int = 128
    weight_decay: float = 0.05
    out: Path | None = None  # None: checkpoints/MODEL-DATASET.pt
    seed: int = SEED
    test_samples: int | None = None  # None: the whole evaluation split, else its first N


    def check(self) -> None:
        limits.EPOCHS.check(self.epochs)
        limits.LEARNING_RATE.check(self.lr)
        limits.TRAIN_BATCH.check(self.batch)
        limits.RESOLUTION.check(self.resolution)
        limits.TEST_SAMPLES.check(self.test_samples)
        if self.out is not None and self.out.suffix not in CHECKPOINT_SUFFIXES:
            raise UserInputError(f"--out {self.out}: a checkpoint ends in "
                                 f"{' or '.join(CHECKPOINT_SUFFIXES)}")


@dataclass(frozen=True)
class Epoch:
    loss: float
    train_top1: float  # percent, on the augmented batches seen
    seconds: float


@dataclass
class TrainProgress:
    """What the training loop reports: a step counter with loss and accuracy, epoch lines."""

    step: Callable[[int, int, str], None] = lambda done, total, text: None
    line: Callable[[str], None] = lambda text: None
    history: list[Epoch] = field(default_factory=list)


def _start(entry, request: TrainRequest, warn) -> ResolvedWeights:
    """ImageNet weights when this machine has them (no download), else random init."""
    located = entry.imagenet.locate() if entry.imagenet else None
    if located is not None:
        return resolve_weights(entry, "imagenet")
    where = entry.imagenet.describe() if entry.imagenet else "none known"
    if request.freeze_backbone:
        raise UserInputError(f"--freeze-backbone needs pretrained weights and {entry.name} has none "
                             f"on this machine ({where}): train without it")
    warn(f"no ImageNet weights for {entry.name} on this machine ({where}): training from random "
         "initialisation")
    return resolve_weights(entry, "random")


def _preprocess(entry, split: Split, weights: ResolvedWeights, resolution: int | None) -> Preprocess:
    """The checkpoint's preprocessing: pretrained features keep the model's normalisation;
    small-image data sets are resized whole (no crop) to the recipe's size."""
    base = entry.preprocess
    mean, std = (base.mean, base.std) if weights.kind == "imagenet" or not split.stats else split.stats
    small = split.train_resolution is not None
    r = resolution or (split.train_resolution if small and weights.kind != "imagenet" else base.resolution)
    if small:
        return Preprocess(r, r, "bilinear", tuple(mean), tuple(std))
    return Preprocess(r, round(r / base.crop_fraction), base.interpolation, tuple(mean), tuple(std))


def _head_path(entry) -> str:
    return entry.head.rsplit(".", 1)[0]


def _set_module(model, path: str, module) -> None:
    parent, _, name = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, name, module)


def _new_model(entry, weights: ResolvedWeights, classes: int, resolution: int):
    """The architecture with ``classes`` outputs and every pretrained weight but the head's."""
    import torch

    torch.manual_seed(SEED)
    model = entry.build(classes, resolution)
    if weights.kind == "imagenet":
        pretrained = build_model(entry, weights, resolution).state_dict()
        head = _head_path(entry)
        state = {k: v for k, v in pretrained.items() if not k.startswith(head + ".")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or not all(k.startswith(head + ".") for k in missing):
            raise CheckpointError(f"{entry.name}'s ImageNet weights do not fit its architecture "
                                  f"beyond the head ({(unexpected or missing)[0]}): reinstall them")
    return model


def _augment(torch, x, pad: int, generator, fill=None):
    """Random crop with ``pad`` pixels of padding (``fill`` per channel: black, as the
    images' own borders are, not the normalised zero), then a random horizontal flip, as
    one gather for the whole batch."""
    n, c, h, w = x.shape
    fill = torch.zeros(c) if fill is None else fill
    padded = fill.view(1, c, 1, 1).expand(n, c, h + 2 * pad, w + 2 * pad).clone()
    padded[:, :, pad:pad + h, pad:pad + w] = x
    dy = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator)
    cols = dx + torch.arange(w)
    flip = torch.rand(n, generator=generator) < 0.5
    cols[flip] = cols[flip].flip(-1)
    rows = dy + torch.arange(h)
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def _fit(torch, model, params, x, y, request: TrainRequest, progress: TrainProgress,
         black=None):
    """AdamW with a one-cycle schedule over ``epochs`` passes of shuffled batches."""
    n = len(x)
    batch = min(request.batch, n)
    steps = max(1, n // batch)  # the remainder is dropped: batch norm needs full batches
    # fused: one kernel for every tensor's update (a third of the per-step optimiser time)
    opt = torch.optim.AdamW(params, lr=request.lr, weight_decay=request.weight_decay, fused=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=request.lr,
                                                   total_steps=request.epochs * steps)
    generator = torch.Generator().manual_seed(request.seed)
    pad = max(1, x.shape[-1] // 10)
    total = request.epochs * steps
    for epoch in range(request.epochs):
        started = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(steps):
            idx = order[b * batch:(b + 1) * batch]
            xb = x[idx]
            if black is not None:  # full training augments; a frozen backbone's features cannot
                xb = _augment(torch, xb, pad, generator, black)
            if xb.dim() == 4:
                xb = xb.contiguous(memory_format=torch.channels_last)
            logits = model(xb)
            loss = torch.nn.functional.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y[idx]).sum())
            seen += len(idx)
            progress.step(epoch * steps + b + 1, total,
                          f"epoch {epoch + 1}/{request.epochs} loss {loss_sum / seen:.3f} "
                          f"acc {100 * correct / seen:.1f}%")
        done = Epoch(loss_sum / seen, 100 * correct / seen, time.perf_counter() - started)
        progress.history.append(done)
        progress.line(f"epoch {epoch + 1}/{request.epochs}: loss {done.loss:.4f}, train top-1 "
                      f"{done.train_top1:.2f}%, {done.seconds:.0f} s")


def _predict(torch, model, x) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return np.concatenate([
            model(x[i:i + EVAL_BATCH].contiguous(memory_format=torch.channels_last)).argmax(1).numpy()
            for i in range(0, len(x), EVAL_BATCH)])


def _features(torch, model, entry, x, progress: TrainProgress):
    """The frozen backbone's pooled features (the head swapped for an identity)."""
    head = model.get_submodule(_head_path(entry))
    _set_module(model, _head_path(entry), torch.nn.Identity())
    model.eval()
    chunks = []
    with torch.no_grad():
        for i in range(0, len(x), EVAL_BATCH):
            chunks.append(model(x[i:i + EVAL_BATCH].contiguous(memory_format=torch.channels_last)))
            progress.step(min(i + EVAL_BATCH, len(x)), len(x), "extracting backbone features")
    _set_module(model, _head_path(entry), head)
    return torch.cat(chunks)


def _save(model, meta: CheckpointMeta, out: Path) -> None:
    """Written beside ``out`` and renamed over it: Ctrl-C never leaves half a checkpoint."""
    import json

    import torch

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {out.parent} ({e.strerror or e}): choose another --out") from e
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    try:
        if out.suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file(state, str(partial), metadata={META_KEY: json.dumps(meta.to_dict())})
        else:
            torch.save({"state_dict": state, META_KEY: meta.to_dict()}, partial)
        os.replace(partial, out)
    except OSError as e:
        raise OutputError(f"cannot write {out} ({e.strerror or e}): free space or choose another "
                          "--out") from e
    finally:
        partial.unlink(missing_ok=True)


def _tensors(torch, split: Split, preprocess: Preprocess, warn, progress: TrainProgress) -> tuple:
    t: Tensors = preprocess_split(split, preprocess, progress=lambda d, n: progress.step(
        d, n, f"preprocessing {split.name}"))
    if t.skipped:
        warn(f"skipped {t.skipped} unreadable images in {split.where}")
    return t, torch.from_numpy(t.x), torch.from_numpy(t.labels)


def run(request: TrainRequest, warn: Callable[[str], None] = lambda m: None,
        progress: TrainProgress | None = None) -> TrainResult:
    """Train, test on the data set's evaluation split, write the checkpoint."""
    request.check()
    progress = progress or TrainProgress()
    entry = zoo.get(request.model)
    spec = DatasetSpec.parse(request.dataset)
    train_split = spec.open("train")
    test_spec = spec.with_split(spec.kind.eval_split, request.test_samples)
    if train_split.split == test_spec.split:
        warn(f"{spec.name} has no separate test split: the test accuracy is on training images")
    if len(train_split) < 2:
        raise UserInputError(f"{train_split.name} has {len(train_split)} image: training needs "
                             "at least 2")
    out = request.out or Path("checkpoints") / f"{entry.name}-{spec.name}.pt"
    weights = _start(entry, request, warn)
    preprocess = _preprocess(entry, train_split, weights, request.resolution)
    if preprocess.resolution < 32:
        warn(f"{preprocess.resolution} px is below 32: deep models downsample it to nothing")
    import torch

    started = time.perf_counter()
    train, x, y = _tensors(torch, train_split, preprocess, warn, progress)
    classes = len(train_split.classes)
    model = _new_model(entry, weights, classes, preprocess.resolution).to(
        memory_format=torch.channels_last)
    if request.freeze_backbone:
        features = _features(torch, model, entry, x, progress)
        head = model.get_submodule(_head_path(entry))
        head.train()
        _fit(torch, head, head.parameters(), features, y, request, progress)
    else:
        model.train()
        black = -torch.tensor(preprocess.mean) / torch.tensor(preprocess.std)
        _fit(torch, model, model.parameters(), x, y, request, progress, black)
    train_seconds = time.perf_counter() - started
    del x, train
    test = test_spec.open()
    t, tx, _ = _tensors(torch, test, preprocess, warn, progress)
    top1 = float(100 * (_predict(torch, model, tx) == t.labels).mean())
    meta = CheckpointMeta(
        model=entry.name, dataset=f"{spec.name}:{spec.path.resolve()}" if spec.path else spec.name,
        classes=train_split.classes, preprocess=preprocess.to_dict(),
        train_split=train_split.split, eval_split=test.split,
        dataset_identity={train_split.split: train_split.identity, test.split: test.identity},
        recipe={"epochs": request.epochs, "lr": request.lr, "batch": request.batch,
                "weight_decay": request.weight_decay, "optimizer": "AdamW",
                "schedule": "OneCycle", "freeze_backbone": request.freeze_backbone,
                "augment": None if request.freeze_backbone else "random crop + horizontal flip",
                "train_images": len(train_split), "seed": request.seed},
        test_top1=round(top1, 3), test_samples=len(t.labels),
        train_seconds=round(train_seconds, 1), started_from=weights.kind)
    _save(model.to(memory_format=torch.contiguous_format), meta, out)
    from .fingerprint import collect

    device = collect()
    key = CellKey(model=entry.name, weights=weights.kind, format="pytorch", precision="fp32",
                  runtime="torch", settings={k: meta.recipe[k] for k in (
                      "epochs", "lr", "batch", "weight_decay", "freeze_backbone", "train_images",
                      "seed")} | {"resolution": preprocess.resolution},
                  target="local", tools={"torch": torch.__version__},
                  dataset=str(meta.dataset_identity))
    return TrainResult(model=entry.name, dataset=meta.dataset, checkpoint=str(out),
                       classes=meta.classes, resolution=preprocess.resolution,
                       started_from=weights.kind, epochs=request.epochs,
                       train_seconds=meta.train_seconds, test_top1=meta.test_top1,
                       test_samples=meta.test_samples,
                       history=tuple({"loss": round(e.loss, 5), "train_top1": round(e.train_top1, 3),
                                      "seconds": round(e.seconds, 1)} for e in progress.history),
                       batch=request.batch, freeze_backbone=request.freeze_backbone,
                       train_images=len(train_split), key=key.digest, fingerprint=device)
