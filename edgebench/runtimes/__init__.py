"""Runtime backends: each one loads an artifact and runs it, nothing else.

A backend module has ``load(ref, settings) -> Session``; a Session has
``prepare(x)`` (float input to the runtime's own input: untimed), ``run(native)``
(exactly one inference: what the harness times), ``to_numpy(output)`` (untimed) and
``settings_used`` (what really ran: provider, hints, threads, delegates).
Backends import numpy and their one runtime, never torch (except the torch backend).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class ModelRef:
    """What the agent loads: a model file and what its manifest says about it."""

    path: str | None  # the model file; None for the torch backend's zoo reference
    format: str
    precision: str = "fp32"
    input_name: str | None = None
    input_shape: tuple = ()  # may hold "batch"
    input_dtype: str = "float32"
    zoo_model: str | None = None  # torch backend: rebuild this zoo entry
    weights: str = "random"  # torch backend: imagenet | random | PATH
    resolution: int | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelRef":
        return cls(**{**d, "input_shape": tuple(d.get("input_shape") or ())})


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

    def to_dict(self) -> dict:
        return asdict(self)


class Session(Protocol):
    settings_used: dict

    def prepare(self, x: np.ndarray) -> Any: ...

    def run(self, native: Any) -> Any: ...

    def to_numpy(self, output: Any) -> np.ndarray: ...


def infer(session: Session, x: np.ndarray) -> np.ndarray:
    """Float input to float output in one untimed call (validation, accuracy)."""
    return session.to_numpy(session.run(session.prepare(x)))


class LoadError(Exception):
    """The runtime could not load the model (a typed ``load_failed`` result)."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0][:300] if text else type(error).__name__)
