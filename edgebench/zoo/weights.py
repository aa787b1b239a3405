"""Resolve a ``--weights`` choice to a file and hash (no torch), then load a model (torch)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..errors import CheckpointError, UserInputError, first_line
from ..files import sha256_file
from .spec import ModelEntry

if TYPE_CHECKING:  # pragma: no cover
    import torch.nn

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".safetensors")
RANDOM_SEED = 0
# Keys under which training scripts commonly nest the state_dict.
_NESTED_KEYS = ("state_dict", "model_state_dict", "model", "module")


META_KEY = "edgebench"  # where a checkpoint made by ``edgebench train`` keeps its metadata


@dataclass(frozen=True)
class CheckpointMeta:
    """What ``edgebench train`` stores beside the weights: enough for ``export`` and ``eval``
    to need no other flags (the data set, its classes, the preprocessing)."""

    model: str
    dataset: str  # the data set as given (fashion-mnist, imagefolder:PATH, ...), no split
    classes: tuple[str, ...]
    preprocess: dict  # zoo.spec.Preprocess.to_dict()
    train_split: str
    eval_split: str
    dataset_identity: dict = field(default_factory=dict)  # split -> content hash
    recipe: dict = field(default_factory=dict)
    test_top1: float | None = None
    test_samples: int | None = None
    train_seconds: float | None = None
    started_from: str = "random"  # imagenet | random

    def to_dict(self) -> dict:
        from ..results import encode

        return encode(self)

    @classmethod
    def from_dict(cls, data) -> "CheckpointMeta":
        from ..results import decode_dataclass

        return decode_dataclass(cls, data)


def read_meta(path: Path) -> CheckpointMeta | None:
    """The ``edgebench train`` metadata inside a checkpoint, or None for a plain state_dict."""
    try:
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), "pt") as f:
                text = (f.metadata() or {}).get(META_KEY)
            data = json.loads(text) if text else None
        else:
            import torch

            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            data = loaded.get(META_KEY) if isinstance(loaded, Mapping) else None
    except Exception as e:  # torch and safetensors raise many types for a bad file
        raise CheckpointError(
            f"cannot read checkpoint {path}: {first_line(e, 200)} "
            "(is it a state_dict saved with torch.save or safetensors?)") from e
    if data is None:
        return None
    try:
        return CheckpointMeta.from_dict(data)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"checkpoint {path} has unreadable edgebench metadata "
                              f"({first_line(e, 120)}): train it again") from e


@dataclass(frozen=True)
class ResolvedWeights:
    """What ``--weights`` means for one entry, known before torch is imported."""

    kind: Literal["imagenet", "random", "checkpoint"]
    path: Path | None = None
    sha256: str | None = None
    seed: int | None = None
    meta: CheckpointMeta | None = None  # checkpoints made by ``edgebench train``

    @property
    def identity(self) -> str:
        return f"random:seed={self.seed}:{RANDOM_RECIPE}" if self.kind == "random" \
            else f"sha256:{self.sha256}"

    def to_dict(self) -> dict:
        return {"source": self.kind, "path": str(self.path) if self.path else None,
                "sha256": self.sha256, "seed": self.seed,
                "recipe": RANDOM_RECIPE if self.kind == "random" else None}


def resolve(entry: ModelEntry, choice: str) -> ResolvedWeights:
    """``imagenet`` | ``random`` | a checkpoint path, checked and hashed."""
    if choice == "random":
        return ResolvedWeights("random", seed=RANDOM_SEED)
    if choice == "imagenet":
        if entry.imagenet is None:
            raise UserInputError(
                f"{entry.name} has no ImageNet weights source: use --weights random or PATH")
        path = entry.imagenet.locate() or entry.imagenet.fetch()
        return ResolvedWeights("imagenet", path=path, sha256=sha256_file(path))
    path = Path(choice)
    if path.suffix not in CHECKPOINT_SUFFIXES:
        raise UserInputError(
            f"--weights {choice!r} is neither imagenet, random nor a checkpoint "
            f"({', '.join(CHECKPOINT_SUFFIXES)})")
    if path.exists() and not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a regular file (a folder, device or FIFO?): "
                              "give the .pt/.pth/.safetensors file itself")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist: check the path")
    try:
        digest = sha256_file(path)
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e.strerror or e}") from e
    return ResolvedWeights("checkpoint", path=path.resolve(), sha256=digest, meta=read_meta(path))


def load_state_dict(path: Path) -> dict:
    """A state_dict from .pt/.pth (``weights_only=True``) or .safetensors, unwrapped."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch and safetensors raise many types for a bad file
        raise CheckpointError(
            f"cannot read checkpoint {path}: {first_line(e, 200)} "
            "(is it a state_dict saved with torch.save or safetensors?)") from e
    for key in _NESTED_KEYS:
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
            break
    if not isinstance(state, Mapping) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(
            f"checkpoint {path} is not a state_dict of tensors: save model.state_dict()")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    quantised = [k for k, v in state.items() if v.is_quantized or k.endswith(
        ("_packed_params", ".scale", ".zero_point"))]
    if quantised:
        raise CheckpointError(
            f"checkpoint {path} is already quantised ({quantised[0]}): give the FP32 "
            "checkpoint; edgebench quantises per format itself")
    return state


def _check_fit(entry: ModelEntry, path: Path, model: "torch.nn.Module", state: dict) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if not (missing or unexpected or mismatched):
        return
    parts = []
    if mismatched:
        k = mismatched[0]
        parts.append(f"{len(mismatched)} shape mismatches (first: {k} is {tuple(state[k].shape)}, "
                     f"{entry.name} expects {tuple(expected[k].shape)})")
    if missing:
        parts.append(f"{len(missing)} missing keys (first: {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (first: {unexpected[0]})")
    raise CheckpointError(
        f"checkpoint {path} does not fit {entry.name}: {'; '.join(parts)}: "
        "is it a checkpoint of another architecture?")


# Random weights whose activations have a trained model's scale: BatchNorm statistics
# re-estimated on seeded crops of real photos and image-like batches (torchvision leaves them
# at identity, so a random EfficientNet's logits are ~1e-13 and its INT8 outputs all zero,
# hiding real failures). Synthetic batches alone are not enough: on real images (photos,
# Fashion-MNIST) the activations of a deep random network then grow block by block (logits
# of 100+, FP16 weights alone moving them 9%).
RANDOM_RECIPE = "bn-reestimated-v2"  # renamed whenever the recipe changes: caches key on it
RANDOM_BN_CROPS, RANDOM_BN_SYNTHETIC, RANDOM_BN_BATCH = 96, 64, 8


def image_like_batch(generator, n: int, resolution: int, mean, std) -> "torch.Tensor":
    """``n`` normalised image-like inputs, not white noise: smooth colour fields with some
    texture (photo-like) alternating with dark backgrounds holding bright shapes (the scanned
    objects of Fashion-MNIST-like data), so the statistics cover both kinds of input."""
    import torch
    import torch.nn.functional as F

    r = resolution
    coarse = torch.rand(n, 3, 6, 6, generator=generator)
    fine = torch.rand(n, 3, r // 8 or 1, r // 8 or 1, generator=generator)
    photo = 0.8 * F.interpolate(coarse, size=r, mode="bicubic", align_corners=False) + \
        0.2 * F.interpolate(fine, size=r, mode="nearest")
    grid = torch.linspace(0, 1, r)
    lo = torch.rand(n, 2, 2, generator=generator) * 0.5  # two boxes per image: top-left corners
    hi = lo + 0.2 + torch.rand(n, 2, 2, generator=generator) * 0.3
    inside = ((grid.view(1, 1, r, 1) >= lo[..., 0, None, None]) & (grid.view(1, 1, r, 1) <= hi[..., 0, None, None])
              & (grid.view(1, 1, 1, r) >= lo[..., 1, None, None]) & (grid.view(1, 1, 1, r) <= hi[..., 1, None, None]))
    shade = 0.4 + 0.6 * torch.rand(n, 2, 1, 1, generator=generator)
    scan = (inside * shade).amax(dim=1, keepdim=True) + 0.1 * torch.rand(n, 1, 1, 1, generator=generator)
    scan = F.avg_pool2d(scan, 3, stride=1, padding=1).expand(n, 3, r, r)
    images = torch.where(torch.arange(n).view(n, 1, 1, 1) % 2 == 0, photo, scan).clamp(0, 1)
    return (images - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def estimation_images(entry: ModelEntry, seed: int, resolution: int) -> "torch.Tensor":
    """What random weights' BatchNorm statistics are estimated on, shuffled: random crops of
    the photos scikit-image ships (their mirrors too) and image-like batches."""
    import torch
    import torch.nn.functional as F

    from ..data.photos import photo_batch

    generator = torch.Generator().manual_seed(seed)
    photos = torch.from_numpy(photo_batch(replace(entry.preprocess, resolution=resolution))[1])
    crops = []
    for _ in range(RANDOM_BN_CROPS):
        image = photos[int(torch.randint(len(photos), (1,), generator=generator))]
        side = int(resolution * (0.35 + 0.65 * float(torch.rand(1, generator=generator))))
        top, left = torch.randint(resolution - side + 1, (2,), generator=generator).tolist()
        crops.append(F.interpolate(image[None, :, top:top + side, left:left + side],
                                   size=resolution, mode="bilinear", align_corners=False))
    synthetic = image_like_batch(generator, RANDOM_BN_SYNTHETIC, resolution, entry.preprocess.mean,
                                 entry.preprocess.std)
    images = torch.cat([*crops, synthetic])
    return images[torch.randperm(len(images), generator=generator)]


def _random_model(entry: ModelEntry, seed: int, resolution: int) -> "torch.nn.Module":
    """Seeded random init with re-estimated BatchNorm statistics, cached per (seed, size)."""
    import torch

    from ..files import cache_dir

    torch.manual_seed(seed)
    model = entry.build(entry.num_classes, resolution)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return model.eval()
    cached = cache_dir("random-weights", f"{entry.name}-seed{seed}-{resolution}px-{RANDOM_RECIPE}.pt")
    if cached.is_file():
        try:
            model.load_state_dict(torch.load(cached, map_location="cpu", weights_only=True))
            return model.eval()
        except (RuntimeError, OSError, EOFError, ValueError):
            pass  # a damaged cache entry: estimate again
    images = estimation_images(entry, seed, resolution)
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over every batch
    model.train()
    with torch.no_grad():
        for batch in images.split(RANDOM_BN_BATCH):
            model(batch)
    for m in norms:
        m.momentum = 0.1
    model.eval()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".partial-{os.getpid()}")
    torch.save(model.state_dict(), partial)
    os.replace(partial, cached)
    return model


def build_model(entry: ModelEntry, weights: ResolvedWeights, resolution: int) -> "torch.nn.Module":
    """The eval-mode module with ``weights`` loaded."""
    if weights.kind == "random":
        return _random_model(entry, weights.seed or 0, resolution)
    assert weights.path is not None  # resolve() always sets it for files
    state = load_state_dict(weights.path)
    num_classes = entry.num_classes
    if weights.kind == "checkpoint":
        head = state.get(entry.head)
        if head is None:
            raise CheckpointError(
                f"checkpoint {weights.path} has no {entry.head} (the {entry.name} classifier): "
                "is it a checkpoint of another architecture?")
        num_classes = int(head.shape[0])
        if weights.meta and len(weights.meta.classes) != num_classes:
            raise CheckpointError(
                f"checkpoint {weights.path} has a {num_classes}-class head but its metadata names "
                f"{len(weights.meta.classes)} classes: it was edited after training; train again")
    model = entry.build(num_classes, resolution)
    _check_fit(entry, weights.path, model, state)
    model.load_state_dict(state, strict=True)
    return model.eval()


def channels_last_input(model):
    """The module behind a channels-last input: (N, H, W, C) -> (N, C, H, W) -> model."""
    import torch

    class ChannelsLastInput(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x.permute(0, 3, 1, 2))

    return ChannelsLastInput(model).eval()
