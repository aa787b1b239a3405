"""Version facts: which distributions provide a runtime, which of their versions take numpy 2,
and what was measured about old and new versions loading edgebench's own artifacts."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    """A pip distribution that provides a runtime, and from which version it takes numpy 2.

    Older wheels were built against numpy 1.x without saying so in their requirements: an
    environment for them gets ``numpy<2``. A late ``numpy2_from`` only costs numpy 1.x.
    """

    name: str
    numpy2_from: str | None  # None: no version takes numpy 2

    def numpy_requirement(self, version: str) -> str:
        takes_numpy2 = self.numpy2_from and version_tuple(version) >= version_tuple(self.numpy2_from)
        return "numpy" if takes_numpy2 else "numpy<2"


def version_tuple(text: str) -> tuple[int, ...]:
    """``2024.3.0`` -> (2024, 3, 0): what versions are compared as."""
    return tuple(int(p) for p in text.split(".") if p.isdigit())


@dataclass(frozen=True)
class VersionLimit:
    """A fact measured on edgebench's own artifacts: these runtime versions fail on them.

    The report names the limit beside each cell it covers and says whether the cell bore it
    out; cells outside a limit still run when asked, so the table is checked, not trusted.
    """

    distribution: str
    fact: str
    formats: tuple[str, ...]
    precisions: tuple[str, ...]
    models: tuple[str, ...] = ()  # fnmatch patterns; empty: every model
    below: str | None = None  # every version before this one
    versions: tuple[str, ...] = ()  # exactly these versions
    cpu: str | None = None  # only on this core (the fingerprint's cpu_model)

    def covers(self, model: str, fmt: str, precision: str, served_by: tuple[str, ...],
               versions: dict, cpu: str | None) -> bool:
        """Whether this limit covers the cell (``served_by``: the distributions that provide its
        runtime)."""
        found = versions.get(self.distribution)
        served = self.distribution in served_by
        if not (served and found and fmt in self.formats and precision in self.precisions):
            return False
        if self.models and not any(fnmatch.fnmatch(model, m) for m in self.models):
            return False
        if self.cpu and (cpu or "") != self.cpu:
            return False
        return (self.below is not None and version_tuple(found) < version_tuple(self.below)) or \
            found in self.versions


VERSION_LIMITS: tuple[VersionLimit, ...] = (
    VersionLimit("openvino", "OpenVINO before 2024.0 cannot read edgebench's ResNet IRs (MaxPool "
                 "from opset14); their ONNX files still load", ("openvino",),
                 ("fp32", "fp16", "int8"), models=("resnet*",), below="2024.0"),
    VersionLimit("openvino", "OpenVINO 2026.4.0 and 2026.4.1 fail to compile a realistic "
                 "EfficientNet-B0 INT8 IR on a Cortex-A72 core (2026.3 compiles it)",
                 ("openvino",), ("int8",), models=("efficientnet_b0",),
                 versions=("2026.4.0", "2026.4.1"), cpu="Cortex-A72"),
    VersionLimit("openvino", "OpenVINO 2026.3 and 2026.4 fail to compile edgebench's INT8 QDQ "
                 "ONNX files on a Cortex-A72 core (\"object is not initialized\"; 2024.0 compiles "
                 "them)", ("onnx",), ("int8",), models=("resnet*", "efficientnet_b0"),
                 versions=("2026.3.0", "2026.3.1", "2026.4.0", "2026.4.1"), cpu="Cortex-A72"),
)


@dataclass(frozen=True)
class LoadsIn:
    """The oldest runtime versions seen to load edgebench's artifacts of this kind, from the
    compatibility runs (``benchmarks/compat_grid.py``), not from release notes."""

    formats: tuple[str, ...]
    precisions: tuple[str, ...]
    models: tuple[str, ...]  # fnmatch patterns
    versions: dict  # distribution -> oldest version seen loading it


_ALL = ("fp32", "fp16", "int8")
# Measured with benchmarks/compat_grid.py (resnet18 and efficientnet_b0 at 128 px; tried:
# onnxruntime 1.16.3, 1.18.1, 1.32.0; openvino 2023.3.0, 2024.0.0, 2026.3.0, 2026.4.1;
# tflite-runtime 2.14.0, ai-edge-litert 2.3.0) on x86-64 and on emulated Cortex-A72 and
# Cortex-A76 cores: the oldest loading version was the same on all three (newer versions that
# fail on one core are VERSION_LIMITS). First match wins.
KNOWN_TO_LOAD: tuple[LoadsIn, ...] = (
    LoadsIn(("onnx",), _ALL, ("resnet*", "efficientnet_b0"),
            {"onnxruntime": "1.16.3", "openvino": "2023.3.0"}),
    LoadsIn(("openvino",), _ALL, ("resnet*",), {"openvino": "2024.0.0"}),
    LoadsIn(("openvino",), _ALL, ("efficientnet_b0",), {"openvino": "2023.3.0"}),
    LoadsIn(("tflite",), _ALL, ("resnet*", "efficientnet_b0"),
            {"tflite-runtime": "2.14.0", "ai-edge-litert": "2.3.0"}),
)


def known_to_load(model: str, fmt: str, precision: str) -> dict:
    """What a manifest records as the oldest runtimes known to load it ({} when unmeasured)."""
    for row in KNOWN_TO_LOAD:
        if fmt in row.formats and precision in row.precisions and \
                any(fnmatch.fnmatch(model, m) for m in row.models):
            return dict(row.versions)
    return {}
