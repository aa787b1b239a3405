"""The capability table: format x precision x converter x runtime, as typed rows.

CLI choices, export dispatch, validation tolerances and error messages all read this
table; nothing else in the code branches on a format name.
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from dataclasses import dataclass, replace
from typing import Callable

from .errors import UnsupportedError, UserInputError


@dataclass(frozen=True)
class Tolerance:
    """When an artifact's outputs count as the reference function.

    ``ok`` needs every bound met; below a ``fail_*`` bound it is ``failed``;
    in between it is ``degraded``. Differences are relative to the reference's
    largest absolute logit, so random and trained weights share one bound.
    """

    max_rel_diff: float | None  # None: output differences are not judged
    min_cosine: float
    min_top1_agreement: float
    fail_cosine: float
    fail_top1_agreement: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PrecisionSpec:
    name: str
    tolerance: Tolerance
    description: str
    max_size_ratio: float | None = None  # of the FP32 file; larger is not this precision's win
    # Top-1 points it may lose against FP32 PyTorch on labelled data before it is "degraded".
    max_accuracy_drop: float = 0.1
    # What a runtime may report it executed for an artifact of this precision; anything else
    # (bf16 for an fp16 file, say) is flagged, never averaged in with the rest.
    executes_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormatSpec:
    name: str
    file_name: str
    suffixes: tuple[str, ...]  # how a bare model file is recognised
    description: str
    # The runtime that validates an export of this format against PyTorch (and whose name
    # keys the export cell): declared, not the first row that happens to load it.
    validated_by: str
    layouts: tuple[str, ...] = ("nchw", "nhwc")  # input layouts an export can take
    dynamic_batch: bool = True  # whether --dynamic-batch applies (else a static batch of 1)
    tensors: str = ""  # "module:function" reading every intermediate tensor (edgebench diff)

    @property
    def runtimes(self) -> tuple[str, ...]:
        return tuple(runtimes_for(self.name))


@dataclass(frozen=True)
class Distribution:
    """A pip distribution that provides a runtime, and from which version it takes numpy 2.

    Older wheels were built against numpy 1.x without saying so in their requirements: an
    environment for them gets ``numpy<2``. A late ``numpy2_from`` only costs numpy 1.x.
    """

    name: str
    numpy2_from: str | None  # None: no version takes numpy 2

    def numpy_requirement(self, version: str) -> str:
        return "numpy" if self.numpy2_from and _version(version) >= _version(self.numpy2_from) \
            else "numpy<2"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


@dataclass(frozen=True)
class RuntimeSpec:
    name: str
    module: str  # edgebench backend module: load() and run() only; imports its runtime lazily
    formats: tuple[str, ...]  # formats it loads
    extra: str  # the edgebench extra that brings it
    devices: str  # what --device accepts, for help texts
    precisions: tuple[str, ...] = ()  # what it can be asked to run in; empty: the artifact's own
    reference: bool = False  # also runs the PyTorch reference of any artifact naming its model
    any_format: bool = False  # loads nothing, so takes anything (the null runtime)
    distributions: tuple[Distribution, ...] = ()  # what can be pinned: NAME==VERSION

    def load_backend(self):
        return importlib.import_module(self.module)

    def loads(self, fmt: str, model_name: str | None = None) -> bool:
        """Whether this runtime can run a model of format ``fmt`` (named ``model_name``)."""
        return fmt in self.formats or self.any_format or (self.reference and model_name is not None)

    def describe_loads(self) -> str:
        extra = " and the PyTorch reference of any zoo artifact" if self.reference else ""
        return (", ".join(self.formats) or "nothing") + extra


@dataclass(frozen=True)
class Capability:
    """One supported (format, precision): how it is made and what runs it."""

    format: str
    precision: str
    converter: str  # human-readable: the tool that writes the file
    exporter: str  # "module:function", imported only when used
    tools: tuple[str, ...]  # distributions whose versions key the export cache
    extra: str = "export"
    calibrated: bool = False  # needs calibration samples
    rung: int = 0  # a rung of the INT8 rescue ladder (1 calibration, 2 sensitive layers, 3 16-bit)
    variant: str | None = None  # the rung's name: its artifact folder is FORMAT-PRECISION-VARIANT
    size_checked: bool = True  # held to its precision's max_size_ratio (not when layers stay float)
    # another converter than the format's own (``--converter NAME``); None: the default one
    converter_name: str | None = None

    @property
    def key(self) -> str:
        """The artifact folder's name and the cell's label: FORMAT-PRECISION[-VARIANT][-CONVERTER]."""
        return f"{self.format}-{self.precision}" + (f"-{self.variant}" if self.variant else "") + \
            (f"-{self.converter_name}" if self.converter_name else "")

    @property
    def file_name(self) -> str:
        return FORMATS[self.format].file_name

    @property
    def runtimes(self) -> tuple[str, ...]:
        """Every runtime that loads this format."""
        return FORMATS[self.format].runtimes

    @property
    def validated_by(self) -> str:
        """The runtime that validates this export (its format's ``validated_by``)."""
        return FORMATS[self.format].validated_by

    @property
    def tolerance(self) -> Tolerance:
        return PRECISIONS[self.precision].tolerance

    @property
    def validation_runtime(self) -> RuntimeSpec:
        return RUNTIMES[self.validated_by]

    def load_exporter(self) -> Callable:
        from .errors import require

        for dist in self.tools:
            require(dist.replace("-", "_"), self.extra)
        module, func = self.exporter.split(":")
        return getattr(importlib.import_module(module), func)


PRECISIONS: dict[str, PrecisionSpec] = {
    p.name: p
    for p in (
        PrecisionSpec(
            "fp32",
            Tolerance(max_rel_diff=1e-3, min_cosine=0.99999, min_top1_agreement=1.0,
                      fail_cosine=0.99, fail_top1_agreement=0.9),
            "32-bit float weights and activations",
            executes_as=("fp32",),
        ),
        PrecisionSpec(
            "fp16",
            Tolerance(max_rel_diff=2e-2, min_cosine=0.999, min_top1_agreement=0.99,
                      fail_cosine=0.98, fail_top1_agreement=0.8),
            "16-bit float weights (and compute where the runtime has it)",
            max_size_ratio=0.75, max_accuracy_drop=0.3,
            executes_as=("fp16", "fp32"),  # FP16 weights upcast where there is no FP16 compute
        ),
        PrecisionSpec(
            "bf16",
            Tolerance(max_rel_diff=1e-1, min_cosine=0.99, min_top1_agreement=0.97,
                      fail_cosine=0.95, fail_top1_agreement=0.7),
            "bfloat16 compute (OpenVINO's own precision on CPUs that have it)",
            max_accuracy_drop=1.0, executes_as=("bf16",),
        ),
        PrecisionSpec(
            "int8",
            # Output differences are not judged: agreement with FP32's top-1 is what users feel.
            Tolerance(max_rel_diff=None, min_cosine=0.9, min_top1_agreement=0.98,
                      fail_cosine=0.5, fail_top1_agreement=0.5),
            "8-bit integer weights and activations (post-training static quantisation)",
            max_size_ratio=0.5, max_accuracy_drop=1.0, executes_as=("int8",),
        ),
    )
}

FORMATS: dict[str, FormatSpec] = {
    f.name: f
    for f in (
        FormatSpec("onnx", "model.onnx", (".onnx",), "ONNX graph (torch.onnx, TorchScript exporter)",
                   validated_by="onnxruntime", tensors="edgebench.layerwise.readers:onnx"),
        FormatSpec("openvino", "model.xml", (".xml",), "OpenVINO IR: model.xml + model.bin",
                   validated_by="openvino", tensors="edgebench.layerwise.readers:openvino"),
        FormatSpec("tflite", "model.tflite", (".tflite",), "TFLite flatbuffer (litert-torch)",
                   validated_by="tflite", dynamic_batch=False, tensors="edgebench.layerwise.readers:tflite"),
    )
}

RUNTIMES: dict[str, RuntimeSpec] = {
    r.name: r
    for r in (
        RuntimeSpec("onnxruntime", "edgebench.runtimes.onnxruntime", ("onnx",), "export",
                    "cpu, gpu/cuda, tensorrt, openvino (execution providers)",
                    distributions=(Distribution("onnxruntime", "1.19"),)),
        RuntimeSpec("openvino", "edgebench.runtimes.openvino", ("openvino", "onnx"), "openvino",
                    "cpu, gpu, npu or any OpenVINO device name",
                    distributions=(Distribution("openvino", "2024.3"),)),
        RuntimeSpec("tflite", "edgebench.runtimes.tflite", ("tflite",), "tflite", "cpu",
                    distributions=(Distribution("ai-edge-litert", "1.0"),
                                   Distribution("tflite-runtime", None))),
        RuntimeSpec("torch", "edgebench.runtimes.torch", ("torch",), "export", "cpu, gpu/cuda[:N]",
                    precisions=("fp32", "fp16"), reference=True),
        RuntimeSpec("null", "edgebench.runtimes.null", (), "export",
                    "any (does nothing: measures the harness itself)", any_format=True),
    )
}

_ONNX_TOOLS = ("torch", "onnx", "onnxruntime")
_OV_TOOLS = ("torch", "openvino")
_TFLITE_TOOLS = ("torch", "litert-torch", "ai-edge-litert", "ai-edge-quantizer")
_ONNX2TF_TOOLS = ("torch", "onnx")  # onnx2tf itself lives in its own environment
ONNX2TF_VERSION = "1.29.24"
# converters that run in their own environment: the pins that key their artifacts
OWN_ENVIRONMENT_PINS = {"onnx2tf": {"onnx2tf": ONNX2TF_VERSION}}

CAPABILITIES: tuple[Capability, ...] = (
    Capability("onnx", "fp32", "torch.onnx (dynamo=False)", "edgebench.export.onnx:export_fp32",
               _ONNX_TOOLS),
    Capability("onnx", "fp16", "onnxruntime float16 (keep_io_types)",
               "edgebench.export.onnx:export_fp16", _ONNX_TOOLS),
    Capability("onnx", "int8", "onnxruntime quantize_static (QDQ, per-channel)",
               "edgebench.export.onnx:export_int8", _ONNX_TOOLS, calibrated=True),
    Capability("openvino", "fp32", "openvino.convert_model", "edgebench.export.openvino:export_fp32",
               _OV_TOOLS, extra="openvino"),
    Capability("openvino", "fp16", "openvino.save_model(compress_to_fp16)",
               "edgebench.export.openvino:export_fp16", _OV_TOOLS, extra="openvino"),
    Capability("openvino", "bf16", "FP32 IR run with the bf16 precision hint",
               "edgebench.export.openvino:export_bf16", _OV_TOOLS, extra="openvino"),
    Capability("openvino", "int8", "NNCF post-training quantisation",
               "edgebench.export.openvino:export_int8", (*_OV_TOOLS, "nncf"),
               extra="openvino", calibrated=True),
    Capability("tflite", "fp32", "litert-torch", "edgebench.export.tflite:export_fp32",
               _TFLITE_TOOLS, extra="tflite"),
    Capability("tflite", "fp16", "ai-edge-quantizer float16 weights",
               "edgebench.export.tflite:export_fp16", _TFLITE_TOOLS, extra="tflite"),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai8 (full integer)",
               "edgebench.export.tflite:export_int8", _TFLITE_TOOLS, extra="tflite",
               calibrated=True),
    # onnx2tf pins its own numpy, onnx, onnxruntime and tensorflow: it runs in an environment
    # of its own, made on first use; only the ONNX file and the calibration samples cross over
    Capability("tflite", "fp32", f"onnx2tf {ONNX2TF_VERSION} (from the ONNX file, own environment)",
               "edgebench.export.onnx2tf:export_fp32", _ONNX2TF_TOOLS, extra="tflite",
               converter_name="onnx2tf"),
    Capability("tflite", "int8", f"onnx2tf {ONNX2TF_VERSION} full integer quantisation (per-channel, "
               "own environment)", "edgebench.export.onnx2tf:export_int8", _ONNX2TF_TOOLS,
               extra="tflite", calibrated=True, converter_name="onnx2tf"),
)
DEFAULT_CONVERTER = "default"


def converters() -> tuple[str, ...]:
    """What ``--converter`` takes: the default, then every other converter in the table."""
    return (DEFAULT_CONVERTER, *dict.fromkeys(c.converter_name for c in CAPABILITIES if c.converter_name))


def made_by(converter: str | None) -> tuple[str, ...]:
    """The formats a converter makes (every format for the default converters)."""
    return tuple(dict.fromkeys(c.format for c in CAPABILITIES if c.converter_name == converter))


def converter_name(text: str | None) -> str | None:
    """A ``--converter`` value as the table names it (None: the default converter)."""
    if text is None or text == DEFAULT_CONVERTER:
        return None
    if text not in converters():
        raise UserInputError(f"unknown converter {text!r}: choose from {', '.join(converters())}")
    return text


# The INT8 rescue ladder's own rungs, tried in this order when an INT8 artifact falls below an
# accuracy floor (``edgebench export --int8 --accuracy-floor``), each format's in rung order;
# the last rung of every format is its FP16 artifact.
RESCUE_RUNGS: tuple[Capability, ...] = (
    Capability("onnx", "int8", "onnxruntime quantize_static (QDQ, Entropy calibration, 4x samples)",
               "edgebench.export.onnx:export_int8_entropy", _ONNX_TOOLS, calibrated=True, rung=1,
               variant="entropy"),
    Capability("onnx", "int8", "onnxruntime quantize_static (QDQ, Percentile calibration, 4x "
               "samples)", "edgebench.export.onnx:export_int8_percentile", _ONNX_TOOLS,
               calibrated=True, rung=1, variant="percentile"),
    Capability("onnx", "int8", "onnxruntime quantize_static, the most sensitive layers kept in "
               "float (layer-wise PSNR against PyTorch on the calibration set)",
               "edgebench.export.onnx:export_int8_keep_sensitive", _ONNX_TOOLS, calibrated=True,
               rung=2, variant="keep-sensitive", size_checked=False),
    Capability("onnx", "int8", "onnxruntime quantize_static, int8 weights and 16-bit activations "
               "(com.microsoft QDQ: onnxruntime only)", "edgebench.export.onnx:export_int8_a16",
               _ONNX_TOOLS, calibrated=True, rung=3, variant="a16"),
    Capability("openvino", "int8", "NNCF post-training quantisation (mean-quantile activation "
               "ranges, full bias correction, 4x samples)",
               "edgebench.export.openvino:export_int8_quantile", (*_OV_TOOLS, "nncf"),
               extra="openvino", calibrated=True, rung=1, variant="quantile"),
    Capability("openvino", "int8", "NNCF post-training quantisation, the most sensitive layers "
               "kept in float (ignored scope from layer-wise PSNR against PyTorch)",
               "edgebench.export.openvino:export_int8_keep_sensitive", (*_OV_TOOLS, "nncf"),
               extra="openvino", calibrated=True, rung=2, variant="keep-sensitive",
               size_checked=False),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai8 (min/max ranges from 4x the "
               "calibration samples)", "edgebench.export.tflite:export_int8", _TFLITE_TOOLS,
               extra="tflite", calibrated=True, rung=1, variant="more-samples"),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai8, the most sensitive layers kept "
               "in float (no_quantize from layer-wise PSNR against PyTorch)",
               "edgebench.export.tflite:export_int8_keep_sensitive", _TFLITE_TOOLS, extra="tflite",
               calibrated=True, rung=2, variant="keep-sensitive", size_checked=False),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai16 (int8 weights, 16-bit "
               "activations)", "edgebench.export.tflite:export_int8_a16", _TFLITE_TOOLS,
               extra="tflite", calibrated=True, rung=3, variant="a16"),
)
MORE_CALIBRATION = 4  # rung 1 calibrates on this many times the plain INT8 samples


def rescue_rungs(fmt: str) -> list[Capability]:
    """The ladder of ``fmt`` after plain INT8: its own rungs, then FP16 (rung 4)."""
    own = sorted((c for c in RESCUE_RUNGS if c.format == fmt), key=lambda c: c.rung)
    try:
        return own + [replace(lookup(fmt, "fp16"), rung=4)]
    except UnsupportedError:
        return own


def rung(fmt: str, variant: str) -> Capability:
    for cap in RESCUE_RUNGS:
        if cap.format == fmt and cap.variant == variant:
            return cap
    raise UnsupportedError(f"no rescue rung {variant!r} for {fmt}: "
                           f"{', '.join(c.variant for c in RESCUE_RUNGS if c.format == fmt) or 'none'}")


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

    def covers(self, model: str, fmt: str, precision: str, runtime: str, versions: dict,
               cpu: str | None) -> bool:
        found = versions.get(self.distribution)
        served = self.distribution in {d.name for d in RUNTIMES[runtime].distributions}
        if not (served and found and fmt in self.formats and precision in self.precisions):
            return False
        if self.models and not any(fnmatch.fnmatch(model, m) for m in self.models):
            return False
        if self.cpu and (cpu or "") != self.cpu:
            return False
        return (self.below is not None and _version(found) < _version(self.below)) or \
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


def known_limit(model: str, fmt: str, precision: str, runtime: str, versions: dict,
                cpu: str | None) -> VersionLimit | None:
    """The measured limit that covers this cell, if any (``runtime`` may be pinned)."""
    try:
        base = parse_runtime(runtime).runtime
    except UserInputError:
        return None
    return next((v for v in VERSION_LIMITS
                 if v.covers(model, fmt, precision, base, versions, cpu)), None)


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


def runtimes_for(fmt: str) -> list[str]:
    """Runtimes that can load a format, in table order."""
    return [r.name for r in RUNTIMES.values() if fmt in r.formats]


def format_of(path) -> str | None:
    """The format a bare model file's suffix names, or None."""
    suffix = str(path).lower().rsplit(".", 1)[-1]
    return next((f.name for f in FORMATS.values() if f".{suffix}" in f.suffixes), None)


def check_format(name: str) -> str:
    """A format name from the table, or a one-line error listing the known ones."""
    if name not in FORMATS:
        raise UserInputError(
            f"unknown format {name!r}: choose from {', '.join(FORMATS)}")
    return name


def lookup(fmt: str, precision: str, converter: str | None = None) -> Capability:
    """The row for (format, precision[, converter]), or an error listing what is supported."""
    check_format(fmt)
    for cap in CAPABILITIES:
        if cap.format == fmt and cap.precision == precision and cap.converter_name == converter:
            return cap
    if converter is not None:
        made = [f"{c.format} {c.precision}" for c in CAPABILITIES if c.converter_name == converter]
        raise UnsupportedError(f"{fmt} {precision} is not made by {converter}: it makes "
                               f"{', '.join(made) or 'nothing'}")
    own = [c.precision for c in CAPABILITIES if c.format == fmt and not c.converter_name]
    elsewhere = [c.format for c in CAPABILITIES if c.precision == precision and not c.converter_name]
    hint = f"; {precision} is available in {', '.join(elsewhere)}" if elsewhere else ""
    raise UnsupportedError(
        f"{fmt} {precision} is not supported: {fmt} supports {', '.join(own)}{hint}")
