"""OpenVINO IR: ``openvino.convert_model`` on the torch module (FP32), FP16-compressed
weights, BF16 (the FP32 IR run with the bf16 hint) and NNCF post-training INT8."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from ..errors import ExportError, first_line, require
from ..manifest import Conversion, Quantization
from ..privacy import disable_telemetry
from .onnx import INPUT_NAME, OUTPUT_NAME
from .options import ExportContext, ExportInfo, input_shape

disable_telemetry()  # before the runtime is first imported (it records at import)

# NNCF's preset, passed to nncf.quantize and recorded in the manifest: symmetric weights and
# activations, the fastest on CPUs ("mixed" makes activations asymmetric).
PRESET = "performance"


def _info(ctx: ExportContext, quantization: Quantization | None = None,
          **conversion) -> ExportInfo:
    return ExportInfo(INPUT_NAME, input_shape(ctx.options), "float32", ctx.options.layout.upper(),
                      OUTPUT_NAME, quantization, Conversion(**conversion))


def export_fp32(ctx: ExportContext, path: Path) -> ExportInfo:
    """Write ``model.xml`` + ``model.bin`` with FP32 weights."""
    ov = require("openvino", "openvino")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit tracing deprecation notices
            converted = ov.convert_model(ctx.model, example_input=ctx.sample)
    except Exception as e:  # the frontends raise many types
        raise ExportError(f"openvino.convert_model failed: {first_line(e)}") from e
    converted.inputs[0].get_tensor().set_names({INPUT_NAME})
    converted.outputs[0].get_tensor().set_names({OUTPUT_NAME})
    # convert_model leaves every dimension dynamic; pin what the export promises
    converted.reshape({converted.inputs[0]: [-1 if d == "batch" else d
                                            for d in input_shape(ctx.options)]})
    _save(ov, converted, path, compress_to_fp16=False)
    return _info(ctx)


def export_fp16(ctx: ExportContext, path: Path) -> ExportInfo:
    """Weights stored as FP16 (half the file); CPUs upcast them, GPUs run FP16."""
    ov = require("openvino", "openvino")
    _save(ov, _read_base(ov, ctx), path, compress_to_fp16=True)
    return _info(ctx, compress_to_fp16=True)


def _read_base(ov, ctx: ExportContext):
    """The FP32 IR every other precision is made from."""
    try:
        return ov.Core().read_model(str(ctx.base))
    except Exception as e:  # the IR frontend raises RuntimeError and its own types
        raise ExportError(f"OpenVINO could not read the FP32 IR {ctx.base.name}: "
                          f"{first_line(e)}") from e


def _save(ov, model, path: Path, compress_to_fp16: bool) -> None:
    """``ov.save_model``, its failure an export failure of this cell only (not a traceback
    that loses the export's other artifacts)."""
    try:
        ov.save_model(model, str(path), compress_to_fp16=compress_to_fp16)
    except Exception as e:  # serialisation raises RuntimeError and its own types
        raise ExportError(f"openvino.save_model (compress_to_fp16={compress_to_fp16}) failed: "
                          f"{first_line(e)}") from e


def export_bf16(ctx: ExportContext, path: Path) -> ExportInfo:
    """The FP32 IR itself: bf16 is a runtime precision, pinned by the hint when it runs."""
    try:
        shutil.copyfile(ctx.base, path)
        shutil.copyfile(ctx.base.with_suffix(".bin"), path.with_suffix(".bin"))
    except FileNotFoundError as e:  # a full disk stays an OSError: the staging folder says so
        raise ExportError(f"the FP32 IR to run in bf16 is missing ({e.filename}): export "
                          "again with --force") from e
    return _info(ctx, inference_precision_hint="bf16")


def export_int8(ctx: ExportContext, path: Path) -> ExportInfo:
    """NNCF post-training quantisation over the shared calibration samples."""
    return _quantize(ctx, path)


def export_int8_quantile(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 1: activation ranges from the mean of per-sample quantiles (outliers
    clipped) and the full bias correction, not the fast one."""
    return _quantize(ctx, path, ranges="MEAN_QUANTILE", fast_bias_correction=False)


def export_int8_keep_sensitive(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 2: plain INT8 first, then the ops of the layers that lose the most
    precision against PyTorch (``sensitivity``), and of the first and last, stay in float."""
    from .sensitivity import keep_sensitive

    return keep_sensitive(ctx, path, "openvino", lambda to, keep: _quantize(ctx, to, ignored=keep))


def _quantize(ctx: ExportContext, path: Path, ranges: str | None = None,
              fast_bias_correction: bool = True, ignored: tuple[str, ...] = ()) -> ExportInfo:
    ov = require("openvino", "openvino")
    nncf = require("nncf", "openvino")
    from ._quiet import captured_output
    from .calibration import nncf_dataset

    preset = nncf.QuantizationPreset(PRESET)  # what the manifest records is this value
    options = {}
    if ranges:
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters
        from nncf.quantization.range_estimator import RangeEstimatorParametersSet

        options["advanced_parameters"] = AdvancedQuantizationParameters(
            activations_range_estimator_params=getattr(RangeEstimatorParametersSet, ranges))
    if ignored:  # names the plain INT8 IR had; NNCF keeps the float model's names
        options["ignored_scope"] = nncf.IgnoredScope(names=list(ignored), validate=False)
    try:
        with captured_output():  # NNCF draws its own progress bars
            quantized = nncf.quantize(_read_base(ov, ctx), nncf_dataset(ctx.calibration),
                                      preset=preset,
                                      subset_size=len(ctx.calibration),
                                      fast_bias_correction=fast_bias_correction, **options)
    except ExportError:
        raise
    except Exception as e:  # NNCF raises many types
        raise ExportError(f"nncf.quantize failed: {first_line(e)}") from e
    _save(ov, quantized, path, compress_to_fp16=False)
    return _info(ctx, Quantization(tool="nncf", preset=preset.value, ranges=ranges or "default",
                                   fast_bias_correction=fast_bias_correction,
                                   samples=len(ctx.calibration), kept_in_float=tuple(ignored)))
