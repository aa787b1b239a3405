"""Fashion-MNIST's files, and the calibration and held-out sample sets export uses.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` package or a user cache;
online users may have it downloaded into the cache. The registry of labelled data sets
that calibration, training and evaluation share is ``labelled``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import shutil
import struct
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from .. import limits
from ..errors import DataUnavailableError, UserInputError
from ..files import cache_dir, sha256_file

if TYPE_CHECKING:  # pragma: no cover
    from .labelled import DatasetSpec

FASHION_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# HTTPS only; each file is checked against the MD5 its authors publish before it is used.
FASHION_MNIST_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")


def _cache_dir() -> Path:
    return cache_dir("fashion-mnist")


def fashion_mnist_dirs() -> list[Path]:
    """Where Fashion-MNIST is looked for, in order; $EDGEBENCH_FASHION_MNIST replaces the
    system folder."""
    chosen = os.environ.get("EDGEBENCH_FASHION_MNIST")
    return [Path(chosen) if chosen else Path("/usr/share/datasets/fashion-mnist"), _cache_dir()]


def _read_idx(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = struct.unpack(">" + "I" * ((header - 4) // 4), data[4:header])
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _download(target: Path, names: tuple[str, str], base_url: str = FASHION_MNIST_URL) -> None:
    """Fetch ``names`` over HTTPS into ``target``; a file whose MD5 is not the published one
    is deleted and never used."""
    if not base_url.startswith("https://"):
        raise OSError(f"refusing a download over plain HTTP ({base_url})")
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        tmp = target / f".{name}.part"
        try:
            with urllib.request.urlopen(base_url + name, timeout=30) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f)
            digest = hashlib.md5(tmp.read_bytes(), usedforsecurity=False).hexdigest()
            if digest != FASHION_MNIST_MD5[name]:
                raise OSError(f"{name} has MD5 {digest}, not the published "
                              f"{FASHION_MNIST_MD5[name]}")
            tmp.rename(target / name)
        finally:
            tmp.unlink(missing_ok=True)


def find_fashion_mnist(split: str) -> Path | None:
    """The first folder holding the split's two files, or None."""
    names = FASHION_MNIST_FILES[split]
    return next((d for d in fashion_mnist_dirs() if all((d / n).is_file() for n in names)), None)


def fashion_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 N x 28 x 28, labels uint8 N) of the ``train`` or ``test`` split."""
    return read_fashion_mnist(fashion_mnist_folder(split), split)


def fashion_mnist_folder(split: str) -> Path:
    """The folder holding the split's files, downloaded into the cache when none does."""
    names = FASHION_MNIST_FILES[split]
    folder = find_fashion_mnist(split)
    if folder is not None:
        return folder
    folder = _cache_dir()
    try:
        _download(folder, names)
    except OSError as e:
        searched = ", ".join(str(d) for d in fashion_mnist_dirs())
        raise DataUnavailableError(
            f"Fashion-MNIST ({split}) is not in {searched} and could not be downloaded "
            f"({e.__class__.__name__}: {e}): apt-get install dataset-fashion-mnist, or put the "
            f"four .gz files in {folder}") from e
    return folder


@functools.lru_cache(maxsize=2)  # calibration, validation and evaluation read the same split
def read_fashion_mnist(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = FASHION_MNIST_FILES[split]
    try:
        return _read_idx(folder / names[0], 16), _read_idx(folder / names[1], 8)
    except (OSError, ValueError, EOFError) as e:
        raise DataUnavailableError(f"Fashion-MNIST files in {folder} are unreadable ({e}): "
                                   "reinstall dataset-fashion-mnist") from e


@dataclass(frozen=True)
class Samples:
    """Preprocessed float32 N x 3 x H x W inputs and where they came from."""

    x: np.ndarray
    source: str
    skipped: int = 0  # unreadable files passed over
    digests: frozenset = frozenset()  # sha256 of the files used: held-out sets exclude them

    def __len__(self) -> int:
        return len(self.x)


def _dataset_samples(spec, n: int, preprocess, default_split: str = "train") -> Samples:
    from .labelled import preprocess_split

    split = spec.open(default_split).head(n)
    t = preprocess_split(split, preprocess)
    return Samples(t.x, f"{split.name} [0:{len(t.x)}]", t.skipped)


def _folder_samples(folder: Path, n: int, preprocess: Callable) -> Samples:
    from PIL import Image

    if not folder.is_dir():
        raise UserInputError(f"calibration folder {folder} does not exist: give a folder of images "
                             "or a named data set (fashion-mnist)")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    arrays, skipped, digests = [], 0, set()
    for path in files:
        if len(arrays) == n:
            break
        try:
            with Image.open(path) as image:
                image.load()
                arrays.append(preprocess(image))
            digests.add(sha256_file(path))
        except Exception:  # untrusted bytes: any decoder error (bombs too) skips the file
            skipped += 1  # truncated, hostile or not an image: counted, never fatal
    if not arrays:
        raise UserInputError(f"calibration folder {folder} has no readable images "
                             f"({len(files)} files, {skipped} unreadable): add JPEG/PNG images")
    return Samples(np.stack(arrays), f"folder {folder} ({len(arrays)} images)", skipped,
                   frozenset(digests))


def _random_samples(n: int, preprocess) -> Samples:
    rng = np.random.default_rng(0)
    shape = (n, 3, preprocess.resolution, preprocess.resolution)
    return Samples(rng.standard_normal(shape).astype(np.float32), "random noise")


DEFAULT_CALIBRATION_SAMPLES = 300


@dataclass(frozen=True)
class CalibrationSpec:
    """``--calib SOURCE[:N]``: a registered data set (its train split by default), a folder of
    images or random noise, and how many samples."""

    source: str
    count: int = DEFAULT_CALIBRATION_SAMPLES
    dataset: "DatasetSpec | None" = None  # when the source is a registered data set

    @classmethod
    def parse(cls, text: str) -> "CalibrationSpec":
        from .labelled import DATASETS, DatasetSpec

        if text.partition(":")[0] in DATASETS:
            spec = DatasetSpec.parse(text)
            return cls(spec.name, spec.count or DEFAULT_CALIBRATION_SAMPLES, spec)
        source, sep, tail = text.rpartition(":")
        if sep and tail.isdigit():
            count = int(tail)
        else:
            source, count = text, DEFAULT_CALIBRATION_SAMPLES
        if not 1 <= count <= limits.MAX_SAMPLES:
            raise UserInputError(f"--calib {text}: the sample count must be from 1 to "
                                 f"{limits.MAX_SAMPLES}")
        if not source:
            raise UserInputError("--calib needs a source: a folder of images, a data set "
                                 "(fashion-mnist, cifar10, imagefolder:PATH) or random")
        return cls(source, count)

    @property
    def is_random(self) -> bool:
        return self.source == "random"

    def identity(self) -> str:
        """What keys the export cache: the source's content, not just its name."""
        if self.dataset is not None:
            split = self.dataset.open("train").head(self.count)
            return f"{self.dataset.text(split.split)}:{self.count}:{split.identity}"
        if self.is_random:
            return f"random:{self.count}"
        folder = Path(self.source)
        listing = sorted((str(p.relative_to(folder)), sha256_file(p))
                         for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        digest = hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]
        return f"folder:{folder.resolve()}:{self.count}:{digest}"

    def load(self, preprocess) -> Samples:
        if self.dataset is not None:
            return _dataset_samples(self.dataset, self.count, preprocess)
        if self.is_random:
            return _random_samples(self.count, preprocess)
        return _folder_samples(Path(self.source), self.count, preprocess)


def held_out(preprocess, count: int, exclude: frozenset = frozenset(),
             dataset=None) -> tuple[Samples, list[str]]:
    """Validation inputs never used for calibration, and any warnings.

    With ``dataset`` (a checkpoint's own data set): the first ``count`` images of its
    evaluation split. Otherwise: the real photos (less any whose bytes are in ``exclude``),
    then the Fashion-MNIST test split up to ``count``."""
    from .labelled import DatasetSpec
    from .photos import photo_batch

    if dataset is not None:
        return _dataset_samples(dataset, count, preprocess, "eval"), []
    _, photos = photo_batch(preprocess, exclude=exclude)
    photos = photos[:count]
    parts, sources, warnings = [photos], [f"{len(photos)} real photos"], []
    need = count - len(photos)
    if need > 0:
        try:
            fm = _dataset_samples(DatasetSpec.parse("fashion-mnist:test"), need, preprocess)
            parts.append(fm.x)
            sources.append(fm.source)
        except DataUnavailableError as e:
            warnings.append(f"validating on {len(photos)} photos only, not {count}: {e}")
    if not sum(len(p) for p in parts):
        raise DataUnavailableError("no held-out validation samples: apt-get install dataset-fashion-mnist")
    return Samples(np.concatenate([p for p in parts if len(p)]), " + ".join(sources)), warnings
