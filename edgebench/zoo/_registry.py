"""The model registry: explicit registration, loud on duplicates, glob listing."""

from __future__ import annotations

import difflib
import fnmatch
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import UnknownModelError
from .spec import ModelEntry

_REGISTRY: dict[str, ModelEntry] = {}


def register(entry: ModelEntry) -> ModelEntry:
    """Add an entry; a second entry with the same name is a programming error."""
    if entry.name in _REGISTRY:
        raise ValueError(f"model {entry.name!r} is registered twice")
    _REGISTRY[entry.name] = entry
    return entry


def list_models(pattern: str | None = None) -> list[str]:
    """Names in registration order, optionally filtered by a glob (``efficientnet_b*``)."""
    names = list(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return names


def get(name: str) -> ModelEntry:
    """The entry for ``name``; an unknown name suggests the closest ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "see `edgebench list`"
        raise UnknownModelError(f"unknown model {name!r}: {hint}") from None


@dataclass(frozen=True)
class Counts:
    """Counted at the model's native resolution (see ``edgebench.zoo.counting``)."""

    params: int
    macs: int
    resolution: int

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9


@lru_cache(maxsize=1)
def _counts_table() -> dict:
    text = resources.files(__package__).joinpath("counts.json").read_text()
    return json.loads(text)


def counts(name: str) -> Counts | None:
    """Params and MACs of an entry, or None when not counted yet."""
    row = _counts_table().get(name)
    return Counts(**row) if row else None
