"""Fashion-MNIST's files: where they are looked for, how they are read, and (online) where
they are downloaded from, each checked against its published MD5.

They come from Debian's ``dataset-fashion-mnist`` package or a user cache. The data set as
labelled images is ``labelled``'s registry entry, which reads them here.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import shutil
import struct
import urllib.request
from pathlib import Path

import numpy as np

from ..errors import DataUnavailableError
from ..files import cache_dir

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
