"""The PyTorch reference described for the torch backend: a builder and a state_dict file.

The host builds the model once (zoo entry + resolved weights), saves its state_dict into
edgebench's cache and hands the agent only a description, so the backend never imports
the zoo and a remote board needs nothing but torch and this file.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from ..files import cache_dir
from ..runtimes import ModelRef
from .spec import ModelEntry
from .weights import ResolvedWeights, build_model


def builder_of(entry: ModelEntry) -> tuple[str, tuple]:
    """``("module:function", leading args)`` for an entry's builder (a function or a partial)."""
    build, args = entry.build, ()
    if isinstance(build, functools.partial):
        build, args = build.func, tuple(build.args)
    return f"{build.__module__}:{build.__qualname__}", args


def torch_reference(entry: ModelEntry, weights: ResolvedWeights, resolution: int) -> ModelRef:
    """A ModelRef (host-side path) the torch backend rebuilds ``entry`` from."""
    import torch

    tag = weights.identity.replace(":", "-").replace("=", "")
    path = cache_dir("reference", entry.name, f"{tag}-{resolution}px.pt")
    model = None
    if not path.is_file():
        model = build_model(entry, weights, resolution)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        torch.save(model.state_dict(), partial)
        os.replace(partial, path)  # a half-written state_dict is never picked up
    num_classes = _num_classes(torch, entry, path) if model is None else \
        int(model.state_dict()[entry.head].shape[0])
    builder, args = builder_of(entry)
    return ModelRef(path=str(path), format="torch", builder=builder,
                    builder_args=(*args, num_classes, resolution), resolution=resolution,
                    input_shape=(1, 3, resolution, resolution))


def _num_classes(torch, entry: ModelEntry, path: Path) -> int:
    state = torch.load(path, map_location="meta", weights_only=True)
    return int(state[entry.head].shape[0])
