"""The capability table: format x precision x converter x runtime, as typed rows.

CLI choices and options, export dispatch, validation tolerances, board packages, the
fingerprint's versions, quiet loggers and error messages all read this table; nothing else in
the code branches on a format or runtime name. Standard library only: the on-device agent
reads it.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Callable

from ..errors import UnsupportedError, UserInputError, require
from .versions import Distribution


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
class Knob:
    """A setting a runtime takes: a field of ``RuntimeSettings`` and the ``edgebench bench``
    option that sets it (generated from this row, with this help and default)."""

    field: str  # the RuntimeSettings field it sets
    option: str  # as click declares it: "--hint", "--xnnpack/--no-xnnpack" (on/off), "--compile"
    help: str
    default: str | bool = False
    choices: tuple[str, ...] = ()  # one of these; empty: a flag (on/off, or off unless given)
    # Only this runtime's cells carry it; the others' carry RuntimeSettings' default, so their
    # keys do not change with it (torch's --precision means nothing to an ONNX file).
    own_cells_only: bool = False

    @property
    def is_flag(self) -> bool:
        """An option that is off unless given (``--compile``): no ``--no-`` form, no default shown."""
        return not self.choices and "/" not in self.option


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
    knobs: tuple[Knob, ...] = ()  # its own settings, each a bench option
    # What `edgebench targets bootstrap --runtimes` installs on a board for it: distributions
    # from ``distributions``; the first goes by the runtime's name and is installed by default.
    board_packages: tuple[str, ...] = ()
    # Distributions whose installed versions every result's fingerprint records (any that can
    # provide it, pinnable or not).
    fingerprinted: tuple[str, ...] = ()
    loggers: tuple[str, ...] = ()  # Python packages whose logs and warnings stay off the console

    def load_backend(self):
        return importlib.import_module(self.module)

    def loads(self, fmt: str, model_name: str | None = None) -> bool:
        """Whether this runtime can run a model of format ``fmt`` (named ``model_name``)."""
        return fmt in self.formats or self.any_format or (self.reference and model_name is not None)

    def describe_loads(self) -> str:
        extra = " and the PyTorch reference of any zoo artifact" if self.reference else ""
        return (", ".join(self.formats) or "nothing") + extra

    def distribution(self, name: str) -> Distribution:
        return next(d for d in self.distributions if d.name == name)


@dataclass(frozen=True)
class Capability:
    """One supported (format, precision): how it is made and what runs it."""

    format: str
    precision: str
    converter_description: str  # human-readable: the tool that writes the file
    exporter: str  # "module:function", imported only when used
    tools: tuple[str, ...]  # distributions whose versions key the export cache
    extra: str = "export"
    calibrated: bool = False  # needs calibration samples
    rung: int = 0  # a rung of the INT8 rescue ladder (1 calibration, 2 sensitive layers, 3 16-bit)
    variant: str | None = None  # the rung's name: its artifact folder is FORMAT-PRECISION-VARIANT
    size_checked: bool = True  # held to its precision's max_size_ratio (not when layers stay float)
    # another converter than the format's own (``--converter NAME``); None: the default one
    converter: str | None = None

    @property
    def key(self) -> str:
        """The artifact folder's name and the cell's label: FORMAT-PRECISION[-VARIANT][-CONVERTER]."""
        return f"{self.format}-{self.precision}" + (f"-{self.variant}" if self.variant else "") + \
            (f"-{self.converter}" if self.converter else "")

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

_TORCH_PRECISIONS = ("fp32", "fp16")

RUNTIMES: dict[str, RuntimeSpec] = {
    r.name: r
    for r in (
        RuntimeSpec("onnxruntime", "edgebench.runtimes.onnxruntime", ("onnx",), "export",
                    "cpu, gpu/cuda, tensorrt, openvino (execution providers)",
                    distributions=(Distribution("onnxruntime", "1.19"),),
                    board_packages=("onnxruntime",),
                    fingerprinted=("onnxruntime", "onnxruntime-gpu"), loggers=("onnxruntime",)),
        RuntimeSpec("openvino", "edgebench.runtimes.openvino", ("openvino", "onnx"), "openvino",
                    "cpu, gpu, npu or any OpenVINO device name",
                    distributions=(Distribution("openvino", "2024.3"),),
                    knobs=(Knob("hint", "--hint", "OpenVINO performance hint.", default="latency",
                                choices=("latency", "throughput")),),
                    board_packages=("openvino",), fingerprinted=("openvino",), loggers=("openvino",)),
        RuntimeSpec("tflite", "edgebench.runtimes.tflite", ("tflite",), "tflite", "cpu",
                    # tflite-runtime's last aarch64 wheel is 2.14, built against numpy 1.x
                    distributions=(Distribution("ai-edge-litert", "1.0"),
                                   Distribution("tflite-runtime", None)),
                    knobs=(Knob("xnnpack", "--xnnpack/--no-xnnpack", "TFLite XNNPACK delegate.",
                                default=True),),
                    board_packages=("ai-edge-litert", "tflite-runtime"),
                    fingerprinted=("ai-edge-litert", "tflite-runtime", "tensorflow"),
                    loggers=("ai_edge_litert", "tensorflow", "absl")),
        RuntimeSpec("torch", "edgebench.runtimes.torch", ("torch",), "export", "cpu, gpu/cuda[:N]",
                    precisions=_TORCH_PRECISIONS, reference=True,
                    knobs=(Knob("precision", "--precision", "torch backend precision (other "
                                "runtimes run the artifact's own).", default=_TORCH_PRECISIONS[0],
                                choices=_TORCH_PRECISIONS, own_cells_only=True),
                           Knob("cuda_graphs", "--cuda-graphs/--no-cuda-graphs",
                                "torch on CUDA: capture once, replay.", default=True),
                           Knob("channels_last", "--channels-last/--no-channels-last",
                                "torch: channels-last memory format.", default=True),
                           Knob("compile", "--compile", "torch: compile with inductor "
                                "(max-autotune, then the CUDA graph on a GPU); minutes on a cell's "
                                "first run, counted as its load time, then cached.",
                                own_cells_only=True)),
                    fingerprinted=("torch",), loggers=("torch", "torchvision")),
        RuntimeSpec("null", "edgebench.runtimes.null", (), "export",
                    "any (does nothing: measures the harness itself)", any_format=True),
    )
}


def reference_runtime() -> RuntimeSpec:
    """The row that runs the PyTorch reference (``reference=True``); a ``zoo:MODEL`` source is
    in its format."""
    return next(r for r in RUNTIMES.values() if r.reference)


def knobs() -> tuple[Knob, ...]:
    """Every runtime's knobs, in table order: the bench command's runtime options."""
    return tuple(k for r in RUNTIMES.values() for k in r.knobs)


def settings_for(runtime: str, settings):
    """``settings`` (a ``RuntimeSettings``) as a cell of the table runtime ``runtime`` carries
    them: the knobs other runtimes keep to their own cells back at their defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(settings)}
    return dataclasses.replace(settings, **{
        k.field: defaults[k.field] for r in RUNTIMES.values() if r.name != runtime
        for k in r.knobs if k.own_cells_only})


@dataclass(frozen=True)
class Tool:
    """A distribution a converter uses (a ``Capability.tools`` name): its version keys the
    export cache, and its Python packages' logs and warnings stay off the console."""

    name: str
    loggers: tuple[str, ...] = ()


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("torch", ("torch", "torchvision")),
    Tool("onnx", ("onnx", "onnxscript")),
    Tool("onnxruntime", ("onnxruntime",)),
    Tool("openvino", ("openvino",)),
    Tool("nncf", ("nncf",)),
    Tool("litert-torch", ("litert_torch", "jax", "absl")),
    Tool("ai-edge-litert", ("ai_edge_litert",)),
    Tool("ai-edge-quantizer", ("ai_edge_quantizer", "absl")),
)}


def quiet_loggers() -> tuple[str, ...]:
    """The Python packages of every runtime and converter tool in the table: what
    ``edgebench.logs`` quiets."""
    names = [n for r in RUNTIMES.values() for n in r.loggers]
    names += [n for c in CAPABILITIES for tool in c.tools for n in TOOLS[tool].loggers]
    return tuple(dict.fromkeys(names))


def fingerprinted() -> tuple[str, ...]:
    """The distributions whose versions the fingerprint records: numpy, then every runtime's."""
    return tuple(dict.fromkeys(("numpy", *(d for r in RUNTIMES.values() for d in r.fingerprinted))))


ONNX_TOOLS = ("torch", "onnx", "onnxruntime")
OPENVINO_TOOLS = ("torch", "openvino")
TFLITE_TOOLS = ("torch", "litert-torch", "ai-edge-litert", "ai-edge-quantizer")
ONNX2TF_TOOLS = ("torch", "onnx")  # onnx2tf itself lives in its own environment
ONNX2TF_VERSION = "1.29.24"
# converters that run in their own environment: the pins that key their artifacts
OWN_ENVIRONMENT_PINS = {"onnx2tf": {"onnx2tf": ONNX2TF_VERSION}}

CAPABILITIES: tuple[Capability, ...] = (
    Capability("onnx", "fp32", "torch.onnx (dynamo=False)", "edgebench.export.onnx:export_fp32",
               ONNX_TOOLS),
    Capability("onnx", "fp16", "onnxruntime float16 (keep_io_types)",
               "edgebench.export.onnx:export_fp16", ONNX_TOOLS),
    Capability("onnx", "int8", "onnxruntime quantize_static (QDQ, per-channel)",
               "edgebench.export.onnx:export_int8", ONNX_TOOLS, calibrated=True),
    Capability("openvino", "fp32", "openvino.convert_model", "edgebench.export.openvino:export_fp32",
               OPENVINO_TOOLS, extra="openvino"),
    Capability("openvino", "fp16", "openvino.save_model(compress_to_fp16)",
               "edgebench.export.openvino:export_fp16", OPENVINO_TOOLS, extra="openvino"),
    Capability("openvino", "bf16", "FP32 IR run with the bf16 precision hint",
               "edgebench.export.openvino:export_bf16", OPENVINO_TOOLS, extra="openvino"),
    Capability("openvino", "int8", "NNCF post-training quantisation",
               "edgebench.export.openvino:export_int8", (*OPENVINO_TOOLS, "nncf"),
               extra="openvino", calibrated=True),
    Capability("tflite", "fp32", "litert-torch", "edgebench.export.tflite:export_fp32",
               TFLITE_TOOLS, extra="tflite"),
    Capability("tflite", "fp16", "ai-edge-quantizer float16 weights",
               "edgebench.export.tflite:export_fp16", TFLITE_TOOLS, extra="tflite"),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai8 (full integer)",
               "edgebench.export.tflite:export_int8", TFLITE_TOOLS, extra="tflite",
               calibrated=True),
    # onnx2tf pins its own numpy, onnx, onnxruntime and tensorflow: it runs in an environment
    # of its own, made on first use; only the ONNX file and the calibration samples cross over
    Capability("tflite", "fp32", f"onnx2tf {ONNX2TF_VERSION} (from the ONNX file, own environment)",
               "edgebench.export.onnx2tf:export_fp32", ONNX2TF_TOOLS, extra="tflite",
               converter="onnx2tf"),
    Capability("tflite", "int8", f"onnx2tf {ONNX2TF_VERSION} full integer quantisation (per-channel, "
               "own environment)", "edgebench.export.onnx2tf:export_int8", ONNX2TF_TOOLS,
               extra="tflite", calibrated=True, converter="onnx2tf"),
)
DEFAULT_CONVERTER = "default"


def converters() -> tuple[str, ...]:
    """What ``--converter`` takes: the default, then every other converter in the table."""
    return (DEFAULT_CONVERTER, *dict.fromkeys(c.converter for c in CAPABILITIES if c.converter))


def made_by(converter: str | None) -> tuple[str, ...]:
    """The formats a converter makes (every format for the default converters)."""
    return tuple(dict.fromkeys(c.format for c in CAPABILITIES if c.converter == converter))


def converter_name(text: str | None) -> str | None:
    """A ``--converter`` value as the table names it (None: the default converter)."""
    if text is None or text == DEFAULT_CONVERTER:
        return None
    if text not in converters():
        raise UserInputError(f"unknown converter {text!r}: choose from {', '.join(converters())}")
    return text


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
        if cap.format == fmt and cap.precision == precision and cap.converter == converter:
            return cap
    if converter is not None:
        made = [f"{c.format} {c.precision}" for c in CAPABILITIES if c.converter == converter]
        raise UnsupportedError(f"{fmt} {precision} is not made by {converter}: it makes "
                               f"{', '.join(made) or 'nothing'}")
    own = [c.precision for c in CAPABILITIES if c.format == fmt and not c.converter]
    elsewhere = [c.format for c in CAPABILITIES if c.precision == precision and not c.converter]
    hint = f"; {precision} is available in {', '.join(elsewhere)}" if elsewhere else ""
    raise UnsupportedError(
        f"{fmt} {precision} is not supported: {fmt} supports {', '.join(own)}{hint}")
