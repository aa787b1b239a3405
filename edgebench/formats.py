"""The capability table: format x precision x converter x runtime, as typed rows.

CLI choices, export dispatch, validation tolerances and error messages all read this
table; nothing else in the code branches on a format name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class FormatSpec:
    name: str
    file_name: str
    suffixes: tuple[str, ...]  # how a bare model file is recognised
    description: str
    layouts: tuple[str, ...] = ("nchw", "nhwc")  # input layouts an export can take
    dynamic_batch: bool = True  # whether --dynamic-batch applies (else a static batch of 1)

    @property
    def runtimes(self) -> tuple[str, ...]:
        return tuple(runtimes_for(self.name))


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

    @property
    def key(self) -> str:
        return f"{self.format}-{self.precision}"

    @property
    def file_name(self) -> str:
        return FORMATS[self.format].file_name

    @property
    def runtimes(self) -> tuple[str, ...]:
        """Every runtime that loads this format; the first one validates the export."""
        return FORMATS[self.format].runtimes

    @property
    def tolerance(self) -> Tolerance:
        return PRECISIONS[self.precision].tolerance

    @property
    def validation_runtime(self) -> RuntimeSpec:
        return RUNTIMES[self.runtimes[0]]

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
        ),
        PrecisionSpec(
            "fp16",
            Tolerance(max_rel_diff=2e-2, min_cosine=0.999, min_top1_agreement=0.99,
                      fail_cosine=0.98, fail_top1_agreement=0.8),
            "16-bit float weights (and compute where the runtime has it)",
            max_size_ratio=0.75, max_accuracy_drop=0.3,
        ),
        PrecisionSpec(
            "bf16",
            Tolerance(max_rel_diff=1e-1, min_cosine=0.99, min_top1_agreement=0.97,
                      fail_cosine=0.95, fail_top1_agreement=0.7),
            "bfloat16 compute (OpenVINO's own precision on CPUs that have it)",
            max_accuracy_drop=1.0,
        ),
        PrecisionSpec(
            "int8",
            # Output differences are not judged: agreement with FP32's top-1 is what users feel.
            Tolerance(max_rel_diff=None, min_cosine=0.9, min_top1_agreement=0.98,
                      fail_cosine=0.5, fail_top1_agreement=0.5),
            "8-bit integer weights and activations (post-training static quantisation)",
            max_size_ratio=0.5, max_accuracy_drop=1.0,
        ),
    )
}

FORMATS: dict[str, FormatSpec] = {
    f.name: f
    for f in (
        FormatSpec("onnx", "model.onnx", (".onnx",), "ONNX graph (torch.onnx, TorchScript exporter)"),
        FormatSpec("openvino", "model.xml", (".xml",), "OpenVINO IR: model.xml + model.bin"),
        FormatSpec("tflite", "model.tflite", (".tflite",), "TFLite flatbuffer (litert-torch)",
                   dynamic_batch=False),
    )
}

RUNTIMES: dict[str, RuntimeSpec] = {
    r.name: r
    for r in (
        RuntimeSpec("onnxruntime", "edgebench.runtimes.onnxruntime", ("onnx",), "export",
                    "cpu, gpu/cuda, tensorrt, openvino (execution providers)"),
        RuntimeSpec("openvino", "edgebench.runtimes.openvino", ("openvino", "onnx"), "openvino",
                    "cpu, gpu, npu or any OpenVINO device name"),
        RuntimeSpec("tflite", "edgebench.runtimes.tflite", ("tflite",), "tflite", "cpu"),
        RuntimeSpec("torch", "edgebench.runtimes.torch", ("torch",), "export", "cpu, gpu/cuda[:N]",
                    precisions=("fp32", "fp16"), reference=True),
        RuntimeSpec("null", "edgebench.runtimes.null", (), "export",
                    "any (does nothing: measures the harness itself)", any_format=True),
    )
}

_ONNX_TOOLS = ("torch", "onnx", "onnxruntime")
_OV_TOOLS = ("torch", "openvino")
_TFLITE_TOOLS = ("torch", "litert-torch", "ai-edge-litert", "ai-edge-quantizer")

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
)


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


def lookup(fmt: str, precision: str) -> Capability:
    """The row for (format, precision), or an error listing what is supported."""
    check_format(fmt)
    for cap in CAPABILITIES:
        if cap.format == fmt and cap.precision == precision:
            return cap
    own = [c.precision for c in CAPABILITIES if c.format == fmt]
    elsewhere = [c.format for c in CAPABILITIES if c.precision == precision]
    hint = f"; {precision} is available in {', '.join(elsewhere)}" if elsewhere else ""
    raise UnsupportedError(
        f"{fmt} {precision} is not supported: {fmt} supports {', '.join(own)}{hint}")
