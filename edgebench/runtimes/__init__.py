"""Runtime backends: each one loads an artifact and runs it, nothing else.

A backend module has ``load(ref, settings) -> Session``; a Session has
``prepare(x)`` (float input to the runtime's own input: untimed), ``run(native)``
(exactly one inference: what the harness times), ``to_numpy(output)`` (untimed) and
``settings_used`` (what really ran: provider, hints, threads, delegates).
Backends import numpy and their one runtime, never torch (except the torch backend).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class ModelRef:
    """What the agent loads: target-side paths and what the manifest says about the model.

    The torch backend gets a state_dict file plus the builder that makes its architecture
    (the host describes the reference model; the backend knows nothing of the zoo).
    """

    path: str | None  # the model file on the target (torch: a state_dict .pt)
    format: str
    precision: str = "fp32"
    input_name: str | None = None
    input_shape: tuple = ()  # may hold "batch"
    input_dtype: str = "float32"
    sidecar: str | None = None  # a second file the model needs (OpenVINO's weights .bin)
    builder: str | None = None  # torch: "module:function" that builds the architecture
    builder_args: tuple = ()  # torch: its positional arguments
    resolution: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def shape(self, batch: int) -> tuple[int, ...]:
        """The input shape at ``batch``; ValueError when a dimension is not known."""
        shape = list(self.input_shape) or [1, 3, self.resolution or 224, self.resolution or 224]
        shape[0] = batch
        if not all(isinstance(d, int) and d > 0 for d in shape):
            raise ValueError(f"input shape {shape} is not fully known: export with a static shape")
        return tuple(shape)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelRef":
        return cls(**{**d, "input_shape": tuple(d.get("input_shape") or ()),
                      "builder_args": tuple(d.get("builder_args") or ())})


@dataclass(frozen=True)
class RuntimeSettings:
    """How to run: one frozen object; every result records the settings that produced it."""

    device: str = "cpu"
    threads: int | None = None  # None: the runtime's default
    batch: int = 1
    hint: str = "latency"  # OpenVINO performance hint: latency | throughput
    xnnpack: bool = True  # TFLite
    precision: str | None = None  # torch: fp32 | fp16; others run the artifact's precision
    channels_last: bool = True  # torch
    cuda_graphs: bool = True  # torch on CUDA
    compile: bool = False  # torch: inductor, max-autotune (minutes on a first run)

    def to_dict(self) -> dict:
        return asdict(self)

    def with_torch_mode(self, mode: str) -> "RuntimeSettings":
        """These settings in one of the torch backend's modes (``TORCH_MODES``)."""
        compile_, graphs = TORCH_MODES[mode]
        return replace(self, compile=compile_, cuda_graphs=graphs)

    def key_dict(self) -> dict:
        """The settings in a cell's key: a field added after results were stored is left out
        at its default, so those results keep their keys."""
        return {k: v for k, v in self.to_dict().items() if not (k in _ADDED and v == _ADDED[k])}


_ADDED = {"compile": False}

# The torch backend's settings as one name each: (compile, cuda_graphs). On a CPU the graph
# is not used, and the backend records what ran in ``settings_used["mode"]``.
TORCH_MODES: dict[str, tuple[bool, bool]] = {
    "eager": (False, False),
    "eager+graph": (False, True),
    "compiled+graph": (True, True),
}

class Session(Protocol):
    settings_used: dict

    def prepare(self, x: np.ndarray) -> Any: ...

    def run(self, native: Any) -> Any: ...

    def to_numpy(self, output: Any) -> np.ndarray: ...


def infer(session: Session, x: np.ndarray) -> np.ndarray:
    """Float input to float output in one untimed call (validation, accuracy)."""
    return session.to_numpy(session.run(session.prepare(x)))


def quantise(x: np.ndarray, scale: float, zero_point: int, dtype) -> np.ndarray:
    """Float to an integer tensor with its own scale and zero point (round, clip)."""
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


