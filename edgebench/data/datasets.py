"""The calibration and held-out sample sets export uses.

They are drawn from the registry of labelled data sets that calibration, training and
evaluation share (``labelled``), from a folder of images, or (asked for) random.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import limits
from ..errors import DataUnavailableError, UserInputError
from ..files import sha256_file
from .labelled import DATASETS, DatasetSpec, preprocess_split


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
