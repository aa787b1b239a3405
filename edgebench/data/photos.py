"""Real photographs shipped inside scikit-image (CC0 / public domain).

Read straight from the package's data folder with Pillow, so importing scikit-image
(slow) is not needed. They carry no labels: they serve the "does every artifact
compute what PyTorch computes on a real image" checks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..errors import DependencyMissingError

# Natural photos first; the rest are real images too (microscopy, texture, text).
PHOTOS = (
    "chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "ihc.png", "retina.jpg", "camera.png", "coins.png",
    "moon.png", "brick.png", "grass.png", "gravel.png", "page.png", "text.png",
)


# The natural photographs among them (what "a real photo" means in accuracy checks).
NATURAL = ("chelsea", "coffee", "astronaut", "rocket", "motorcycle_left", "camera")


def data_dir() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyMissingError(
            "scikit-image (which ships the validation photos) is not installed: "
            "pip install 'edgebench[export]'")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def photo_paths() -> list[Path]:
    folder = data_dir()
    return [folder / name for name in PHOTOS if (folder / name).is_file()]


def photo_batch(preprocess, count: int | None = None,
                exclude: frozenset = frozenset()) -> tuple[list[str], np.ndarray]:
    """(names, float32 N x 3 x H x W): each photo and its mirror image, preprocessed;
    photos whose sha256 is in ``exclude`` (calibration files) are left out."""
    from ..files import sha256_file

    from PIL import Image, ImageOps

    names, arrays = [], []
    for path in photo_paths():
        if exclude and sha256_file(path) in exclude:
            continue
        with Image.open(path) as image:
            image.load()
        for tag, variant in (("", image), ("/mirror", ImageOps.mirror(image))):
            names.append(path.stem + tag)
            arrays.append(preprocess(variant))
    if count is not None:
        names, arrays = names[:count], arrays[:count]
    shape = (0, 3, preprocess.resolution, preprocess.resolution)
    return names, np.stack(arrays) if arrays else np.zeros(shape, np.float32)
