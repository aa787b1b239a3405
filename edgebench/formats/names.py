"""Runtimes as users name them: a table name, or a distribution pinned to a version."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UserInputError
from .table import RUNTIMES, RuntimeSpec
from .versions import VERSION_LIMITS, Distribution, VersionLimit


@dataclass(frozen=True)
class RuntimeChoice:
    """A runtime as a user names it: ``onnxruntime`` (the environment's own version) or pinned,
    ``onnxruntime==1.16.3`` / ``tflite-runtime==2.14.0``, which runs in its own environment."""

    runtime: str  # the table's name
    distribution: Distribution | None = None
    version: str | None = None

    @property
    def spec(self) -> str:
        """What cell keys, results and environments are named by."""
        return f"{self.distribution.name}=={self.version}" if self.version else self.runtime

    @property
    def env_name(self) -> str | None:
        return f"{self.distribution.name}-{self.version}" if self.version else None

    def requirements(self) -> list[str]:
        """What pip installs into the pinned environment (numpy first)."""
        return [self.distribution.numpy_requirement(self.version), self.spec]


def parse_runtime(text: str) -> RuntimeChoice:
    """``NAME`` or ``DISTRIBUTION==VERSION``; a one-line error naming the valid ones."""
    name, pinned, version = text.strip().partition("==")
    name, version = name.strip(), version.strip()
    if not pinned:
        if name not in RUNTIMES:
            raise UserInputError(f"unknown runtime {name!r}: choose from {', '.join(RUNTIMES)} "
                                 "(or pin one: onnxruntime==1.16.3)")
        return RuntimeChoice(name)
    for spec in RUNTIMES.values():
        for dist in spec.distributions:
            if dist.name == name:
                if not re.fullmatch(r"[0-9]+(\.[0-9]+)*(\.post[0-9]+)?", version):
                    raise UserInputError(f"{text!r}: the version must be exact, like {name}==1.2.3")
                return RuntimeChoice(spec.name, dist, version)
    pinnable = ", ".join(d.name for r in RUNTIMES.values() for d in r.distributions)
    raise UserInputError(f"{name!r} cannot be pinned: pin one of {pinnable} (NAME==VERSION)")


def parse_runtimes(text: str | None) -> tuple[RuntimeChoice, ...]:
    """A comma-separated list of runtimes (``--runtime a,b==1.2``); empty for None."""
    choices = tuple(parse_runtime(t) for t in (text or "").split(",") if t.strip())
    if text is not None and not choices:
        raise UserInputError("--runtime is empty: name a runtime, like onnxruntime")
    return choices


def row_of(runtime: str) -> RuntimeSpec:
    """The table's row for a runtime as a cell names it (``openvino`` or ``openvino==2024.0.0``)."""
    return RUNTIMES[parse_runtime(runtime).runtime]


def known_limit(model: str, fmt: str, precision: str, runtime: str, versions: dict,
                cpu: str | None) -> VersionLimit | None:
    """The measured limit that covers this cell, if any (``runtime`` may be pinned)."""
    try:
        served_by = tuple(d.name for d in row_of(runtime).distributions)
    except UserInputError:
        return None
    return next((v for v in VERSION_LIMITS
                 if v.covers(model, fmt, precision, served_by, versions, cpu)), None)
