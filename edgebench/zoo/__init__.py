"""Model zoo: names to builders, weights sources, preprocessing and metadata."""

from ._registry import Counts, counts, get, list_models, register
from .models import builtin_entries
from .spec import ModelEntry, PackagedWeights, Preprocess, TorchvisionWeights

for _entry in builtin_entries():
    register(_entry)

__all__ = [
    "Counts",
    "ModelEntry",
    "PackagedWeights",
    "Preprocess",
    "TorchvisionWeights",
    "counts",
    "get",
    "list_models",
    "register",
]
