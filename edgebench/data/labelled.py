"""Labelled data sets: one registry shared by calibration, training, validation and evaluation.

``D[:PATH][:split][:N]`` names a split of a registered data set (``fashion-mnist``,
``cifar10``, ``imagenet-val``, ``imagefolder``) and takes its first N images,
deterministically. Images are read lazily and preprocessed by the model's own transform;
class names travel with the data.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tarfile
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

import numpy as np

from .. import limits
from ..errors import DataUnavailableError, UserInputError, first_line
from ..files import cache_dir, sha256_file

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from ..zoo.spec import Preprocess

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_SPLITS = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
FOLDER_SPLITS = ("train", "val", "test")
ALL = "all"  # the one split of a folder without train/val/test sub-folders
IMAGENET_LABELS_FILES = ("labels.txt", "val_labels.txt")
Stats = tuple[tuple[float, float, float], tuple[float, float, float]]


@dataclass(frozen=True)
class Split:
    """One split of a data set: labels in memory, images read on demand."""

    dataset: str  # registry name
    split: str
    classes: tuple[str, ...]
    labels: np.ndarray  # int64, one per image
    image: Callable[[int], "Image.Image"]  # index -> PIL image; raises on an unreadable file
    identity: str  # a hash of the split's content: what checkpoints and caches record
    where: str  # where it was read from, for messages
    stats: Stats | None = None  # per-channel mean/std in [0, 1], for training from scratch
    train_resolution: int | None = None  # the input size a from-scratch recipe uses

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def name(self) -> str:
        return f"{self.dataset}:{self.split}"

    def head(self, count: int | None) -> "Split":
        """The first ``count`` images (all when None): deterministic, never shuffled."""
        if count is None or count >= len(self):
            return self
        return replace(self, labels=self.labels[:count], identity=f"{self.identity}[:{count}]")


@dataclass(frozen=True)
class DatasetKind:
    """A registry entry: what a name means, its splits and where its files live."""

    name: str
    description: str
    splits: tuple[str, ...]
    path: Literal["none", "optional", "required"]
    open: Callable[[Path | None, str], Split]
    eval_split: str
    train_split: str


@dataclass(frozen=True)
class DatasetSpec:
    """``--dataset D[:PATH][:split][:N]`` parsed: which data, which split, how many."""

    kind: DatasetKind
    path: Path | None = None
    split: str | None = None  # None: the use's default (test to evaluate, train to train)
    count: int | None = None  # None: the whole split

    @classmethod
    def parse(cls, text: str) -> "DatasetSpec":
        name, _, rest = text.partition(":")
        kind = DATASETS.get(name)
        if kind is None:
            raise UserInputError(f"unknown data set {name!r}: choose from {', '.join(DATASETS)} "
                                 "(imagefolder:PATH for a folder with one sub-folder per class)")
        parts = rest.split(":") if rest else []
        count = split = None
        if parts and parts[-1].isdigit():
            count = int(parts.pop())
            limits.SAMPLES.check(count)
            if count < 1:
                raise UserInputError(f"{text}: the image count must be at least 1")
        splits = kind.splits or (*FOLDER_SPLITS, ALL)
        if parts and parts[-1] in splits:
            split = parts.pop()
        path = Path(":".join(parts)) if parts else None
        if path is not None and kind.path == "none":
            raise UserInputError(f"{text}: {name} takes no path; its splits are "
                                 f"{', '.join(kind.splits)} (D:split:N)")
        if path is None and kind.path == "required":
            raise UserInputError(f"{text}: {name} needs a folder: {name}:PATH[:split][:N]")
        return cls(kind, path, split, count)

    @property
    def name(self) -> str:
        return self.kind.name

    def text(self, split: str | None = None) -> str:
        """The spec back as text, with a split filled in (what results record)."""
        parts = [self.name, *([str(self.path)] if self.path else []),
                 *([split or self.split] if (split or self.split) else []),
                 *([str(self.count)] if self.count else [])]
        return ":".join(parts)

    def open(self, default_split: Literal["eval", "train"] = "eval") -> Split:
        """The chosen split (first N images), read from disk or the cache."""
        split = self.split or (self.kind.eval_split if default_split == "eval" else self.kind.train_split)
        return self.kind.open(self.path, split).head(self.count)

    def with_split(self, split: str, count: int | None = None) -> "DatasetSpec":
        return replace(self, split=split, count=count)


# ---- Fashion-MNIST ------------------------------------------------------------------------

def _fashion_mnist(path: Path | None, split: str) -> Split:
    from PIL import Image

    from .fashion_mnist import FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, fashion_mnist_folder, read_fashion_mnist

    folder = fashion_mnist_folder(split)
    images, labels = read_fashion_mnist(folder, split)
    digest = hashlib.sha256("".join(sha256_file(folder / n) for n in FASHION_MNIST_FILES[split])
                            .encode()).hexdigest()[:16]
    return Split("fashion-mnist", split, FASHION_MNIST_CLASSES, labels.astype(np.int64),
                 lambda i: Image.fromarray(images[i], mode="L"), f"sha256:{digest}",
                 f"Fashion-MNIST {split} ({folder})", stats=((0.2860,) * 3, (0.3530,) * 3),
                 train_resolution=32)


# ---- CIFAR-10 (the python-pickle batches) -------------------------------------------------

class _ArraysOnly(pickle.Unpickler):
    """CIFAR's batches are pickles: only numpy arrays and plain containers may come out."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in a data file")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            data = _ArraysOnly(f, encoding="bytes").load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise DataUnavailableError(f"CIFAR-10 file {path} is unreadable ({first_line(e, 120)}): "
                                   "download cifar-10-python.tar.gz again") from e
    if not isinstance(data, dict):
        raise DataUnavailableError(f"CIFAR-10 file {path} is not a batch dictionary: "
                                   "download cifar-10-python.tar.gz again")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def cifar10_dirs() -> list[Path]:
    """Where CIFAR-10's batch folder is looked for when no path is given."""
    chosen = os.environ.get("EDGEBENCH_CIFAR10")
    return [*([Path(chosen)] if chosen else []), cache_dir("cifar10", CIFAR10_FOLDER)]


def _download_cifar10(target: Path) -> None:
    """The official tarball over HTTPS, checked against its published MD5, then only the
    batch files extracted (no member path is trusted)."""
    target.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(CIFAR10_URL, timeout=30) as r:
        blob = r.read()
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    if digest != CIFAR10_MD5:
        raise OSError(f"the download has MD5 {digest}, not the published {CIFAR10_MD5}")
    wanted = {*(n for names in CIFAR10_SPLITS.values() for n in names), "batches.meta"}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if member.isfile() and name in wanted:
                (target / name).write_bytes(tar.extractfile(member).read())


def _cifar10(path: Path | None, split: str) -> Split:
    from PIL import Image

    names = CIFAR10_SPLITS[split]
    if path is not None:
        folder = path / CIFAR10_FOLDER if (path / CIFAR10_FOLDER).is_dir() else path
        if not folder.is_dir():
            raise UserInputError(f"CIFAR-10 folder {path} does not exist: give the "
                                 f"{CIFAR10_FOLDER} folder from cifar-10-python.tar.gz")
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise UserInputError(f"CIFAR-10 folder {folder} lacks {', '.join(missing)}: give the "
                                 f"{CIFAR10_FOLDER} folder from cifar-10-python.tar.gz")
    else:
        folder = next((d for d in cifar10_dirs() if all((d / n).is_file() for n in names)), None)
        if folder is None:
            folder = cifar10_dirs()[-1]
            try:
                _download_cifar10(folder)
            except OSError as e:
                raise DataUnavailableError(
                    f"CIFAR-10 is not in {', '.join(map(str, cifar10_dirs()))} and could not be "
                    f"downloaded ({type(e).__name__}): put the {CIFAR10_FOLDER} folder of "
                    f"cifar-10-python.tar.gz in {folder.parent}, or use cifar10:PATH") from e
    images, labels = [], []
    for name in names:
        batch = _unpickle(folder / name)
        try:
            data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            lab = np.asarray(batch["labels"], dtype=np.int64)
        except (KeyError, ValueError) as e:
            raise DataUnavailableError(f"CIFAR-10 file {folder / name} is not a CIFAR batch "
                                       f"({first_line(e, 80)}): download it again") from e
        if len(lab) != len(data) or (len(lab) and not 0 <= lab.min() <= lab.max() < 10):
            raise DataUnavailableError(f"CIFAR-10 file {folder / name} has {len(data)} images and "
                                       f"{len(lab)} labels in 0..9: download it again")
        images.append(data.transpose(0, 2, 3, 1))
        labels.append(lab)
    pixels = np.ascontiguousarray(np.concatenate(images))
    digest = hashlib.sha256("".join(sha256_file(folder / n) for n in names).encode()).hexdigest()[:16]
    return Split("cifar10", split, CIFAR10_CLASSES, np.concatenate(labels),
                 lambda i: Image.fromarray(pixels[i], mode="RGB"), f"sha256:{digest}",
                 f"CIFAR-10 {split} ({folder})",
                 stats=((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)), train_resolution=32)


# ---- folders -------------------------------------------------------------------------------

def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in IMAGE_SUFFIXES)


def _open_image(path: Path) -> "Image.Image":
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        return image


def _listing_identity(root: Path, files: list[Path], labels: list[int]) -> str:
    """Content identity of a folder data set: every file's sha256 and its label."""
    listing = [(str(p.relative_to(root)), sha256_file(p), lab) for p, lab in zip(files, labels)]
    return "sha256:" + hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]


def _class_folders(root: Path, what: str) -> list[Path]:
    if not root.is_dir():
        raise UserInputError(f"{what} folder {root} does not exist: check the path")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise UserInputError(f"{what} folder {root} has no class sub-folders: put each class's "
                             "images in a sub-folder named after the class")
    empty = [p.name for p in classes if not _images_in(p)]
    if empty:
        raise UserInputError(f"{what} folder {root}: class folder(s) {', '.join(empty[:5])} hold no "
                             "images: add images or remove the folder")
    return classes


def _folder_split(root: Path, classes: list[Path], dataset: str, split: str,
                  class_names: tuple[str, ...] | None = None, index=None) -> Split:
    files, labels = [], []
    for i, folder in enumerate(classes):
        found = _images_in(folder)
        files += found
        labels += [index(folder.name) if index else i] * len(found)
    return Split(dataset, split, class_names or tuple(p.name for p in classes),
                 np.asarray(labels, np.int64), lambda i: _open_image(files[i]),
                 _listing_identity(root, files, labels), f"{root} ({len(files)} images)")


def _split_root(path: Path, split: str, what: str) -> Path:
    """A folder's split: PATH/split when PATH has train/val/test sub-folders, else PATH."""
    if not path.is_dir():
        raise UserInputError(f"{what} folder {path} does not exist: check the path")
    has_splits = [s for s in FOLDER_SPLITS if (path / s).is_dir()]
    if split == ALL:
        if has_splits:
            raise UserInputError(f"{path} has {'/'.join(has_splits)} sub-folders: name a split "
                                 f"({what}:PATH:{has_splits[0]})")
        return path
    if split in has_splits:
        return path / split
    if has_splits or split not in ("test", "val", "train"):
        raise UserInputError(f"{path} has no {split} split (it has "
                             f"{', '.join(has_splits) or 'none: use ' + what + ':PATH:all'})")
    return path  # a folder without splits serves every default


def _imagefolder(path: Path | None, split: str) -> Split:
    root = _split_root(path, split, "imagefolder")
    return _folder_split(root, _class_folders(root, "imagefolder"), "imagefolder",
                         split if root != path else ALL)


def imagenet_classes() -> tuple[str, ...]:
    """ImageNet-1k class names in index order (torchvision's list), or the indices."""
    try:  # every ImageNet weight enum carries the list in its metadata
        from torchvision.models import ResNet18_Weights
    except ImportError:
        return tuple(str(i) for i in range(1000))
    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def _imagenet_val(path: Path | None, split: str) -> Split:
    """Synset sub-folders (n01440764/...; all 1000, or a synsets.txt giving the order), or a
    flat folder of images with a labels file: one ``FILENAME INDEX`` line per image."""
    if not path.is_dir():
        raise UserInputError(f"imagenet-val folder {path} does not exist: check the path")
    names = imagenet_classes()
    synset_dirs = sorted(p for p in path.iterdir() if p.is_dir() and p.name.startswith("n"))
    if synset_dirs:
        order_file = path / "synsets.txt"
        order = (order_file.read_text().split() if order_file.is_file()
                 else [p.name for p in synset_dirs])
        if len(order) != 1000:
            raise UserInputError(f"{path} has {len(order)} synset folders and no synsets.txt: "
                                 "ImageNet's class index needs all 1000 synsets in order (add "
                                 "synsets.txt, one synset per line, index order)")
        position = {s: i for i, s in enumerate(order)}
        unknown = [p.name for p in synset_dirs if p.name not in position]
        if unknown:
            raise UserInputError(f"{path}: synset folder {unknown[0]} is not in synsets.txt: "
                                 "check the folder names")
        return _folder_split(path, _class_folders(path, "imagenet-val"), "imagenet-val", "val",
                             names, index=position.__getitem__)
    labels_file = next((path / n for n in IMAGENET_LABELS_FILES if (path / n).is_file()), None)
    if labels_file is None:
        raise UserInputError(f"{path} has neither synset sub-folders nor a labels file "
                             f"({' or '.join(IMAGENET_LABELS_FILES)}: one 'FILENAME INDEX' line "
                             "per image): add one")
    images = {p.name: p for p in _images_in(path) if p.parent == path}
    files, labels = [], []
    for n, line in enumerate(labels_file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not fields[1].isdigit() or not 0 <= int(fields[1]) < 1000:
            raise UserInputError(f"{labels_file} line {n}: expected 'FILENAME INDEX' with INDEX "
                                 f"0-999, got {line.strip()[:60]!r}")
        if fields[0] not in images:
            raise UserInputError(f"{labels_file} line {n} names {fields[0]}, which is not an image "
                                 f"in {path}: the labels file does not match the images")
        files.append(images[fields[0]])
        labels.append(int(fields[1]))
    unlabelled = len(images) - len(set(files))
    if unlabelled or not files:
        raise UserInputError(f"{labels_file} labels {len(set(files))} of the {len(images)} images "
                             f"in {path}: the labels file does not match the images")
    return Split("imagenet-val", "val", names, np.asarray(labels, np.int64),
                 lambda i: _open_image(files[i]), _listing_identity(path, files, labels),
                 f"{path} ({len(files)} images, {labels_file.name})")


DATASETS: dict[str, DatasetKind] = {k.name: k for k in (
    DatasetKind("fashion-mnist", "Fashion-MNIST, 60k train + 10k test, 28x28 greyscale, 10 "
                "classes (Debian's dataset-fashion-mnist, or downloaded when online)",
                ("train", "test"), "none", _fashion_mnist, "test", "train"),
    DatasetKind("cifar10", "CIFAR-10, 50k train + 10k test, 32x32 RGB, 10 classes: the "
                f"{CIFAR10_FOLDER} folder (cifar10:PATH), or downloaded into the cache when online",
                ("train", "test"), "optional", _cifar10, "test", "train"),
    DatasetKind("imagenet-val", "ImageNet-1k validation: synset sub-folders, or a flat folder "
                "with a labels file (imagenet-val:PATH)", ("val",), "required", _imagenet_val,
                "val", "val"),
    DatasetKind("imagefolder", "one sub-folder per class (imagefolder:PATH); train/val/test "
                "sub-folders are its splits", (), "required", _imagefolder, "test", "train"),
)}


# ---- preprocessing into one tensor file ----------------------------------------------------

@dataclass(frozen=True)
class Tensors:
    """A split preprocessed for one input layout and dtype (what every runtime is fed)."""

    x: np.ndarray
    labels: np.ndarray
    skipped: int  # unreadable images passed over (counted, never fatal)
    note: str | None  # how the images were resized, when their size is not the model's


def preprocess_split(split: Split, preprocess: "Preprocess", layout: str = "NCHW",
                     quantise: tuple[float, int, str] | None = None,
                     progress: Callable[[int, int], None] = lambda done, total: None) -> Tensors:
    """Every image of ``split`` through ``preprocess``; ``quantise`` = (scale, zero point,
    dtype) for integer-input artifacts. Unreadable images are skipped and counted."""
    from ..runtimes import quantise as to_integer

    r = preprocess.resolution
    limits.check_tensor_memory("--dataset N", len(split), r)
    shape = (r, r, 3) if layout.upper() == "NHWC" else (3, r, r)
    x = np.empty((len(split), *shape), np.dtype(quantise[2]) if quantise else np.float32)
    kept, note = [], None
    for i in range(len(split)):
        try:
            image = split.image(i)
        except Exception:  # untrusted bytes: any decoder error skips the image
            continue
        if note is None and image.size != (r, r):
            note = (f"{split.dataset} images are {image.size[0]}x{image.size[1]}: resized to {r} px "
                    f"({preprocess.interpolation}, as the model's preprocessing says)")
        a = preprocess(image)
        if shape[0] != 3:
            a = a.transpose(1, 2, 0)
        x[len(kept)] = to_integer(a, *quantise) if quantise else a
        kept.append(i)
        if i % 1000 == 999:
            progress(i + 1, len(split))
    if not kept:
        raise UserInputError(f"{split.where}: none of its {len(split)} images is readable: check "
                             "the files")
    return Tensors(x[:len(kept)], split.labels[kept], len(split) - len(kept), note)
