"""ONNX: FP32 through torch.onnx's TorchScript exporter (fast, emits opset 17); FP16 with
onnxruntime's float16 converter; INT8 with onnxruntime static quantisation (QDQ).

Dynamic quantisation is deliberately absent: it turns Conv into ConvInteger, which is
slower than FP32 for CNNs on these CPUs.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path


from ..errors import ExportError, UserInputError, first_line
from ..manifest import Conversion, Quantization
from ..privacy import disable_telemetry
from .options import ExportContext, ExportInfo, input_shape

disable_telemetry()  # before the runtime is first imported (it records at import)

INPUT_NAME, OUTPUT_NAME = "input", "logits"


def _info(ctx: ExportContext, quantization: Quantization | None = None,
          **conversion) -> ExportInfo:
    return ExportInfo(INPUT_NAME, input_shape(ctx.options), "float32", ctx.options.layout.upper(),
                      OUTPUT_NAME, quantization, Conversion(opset=ctx.options.opset, **conversion))


def _check(path: Path) -> None:
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"onnx.checker rejected the export: {first_line(e)}") from e


def _keep_used_opsets(path: Path) -> dict[str, int]:
    """Drop opset imports no node uses; returns those kept.

    The quantiser stamps domains such as ``ai.onnx.ml`` v5 that no node needs, and
    onnxruntime before 1.18 refuses a file that imports a domain version it does not know.
    """
    import onnx

    model = onnx.load(str(path))
    used = {node.domain for node in model.graph.node} | {""}
    kept = [o for o in model.opset_import if o.domain in used]
    if len(kept) != len(model.opset_import):
        del model.opset_import[:]
        model.opset_import.extend(kept)
        onnx.save(model, str(path))
    return {o.domain or "ai.onnx": o.version for o in kept}


def export_fp32(ctx: ExportContext, path: Path) -> ExportInfo:
    """Write the module to ``path`` and run onnx.checker's full check on it."""
    import torch
    from torch.onnx import _constants

    options = ctx.options
    lo, hi = _constants.ONNX_MIN_OPSET, _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET
    if not lo <= options.opset <= hi:
        raise UserInputError(f"--opset {options.opset} is out of range: choose {lo} to {hi}")
    dynamic = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if options.dynamic_batch else None
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
            torch.onnx.export(ctx.model, (ctx.sample,), str(path), dynamo=False,
                              opset_version=options.opset, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], dynamic_axes=dynamic,
                              do_constant_folding=True)
    except (RuntimeError, ValueError, TypeError, torch.onnx.errors.OnnxExporterError) as e:
        raise ExportError(f"torch.onnx.export failed: {first_line(e)}") from e
    _check(path)
    return _info(ctx)


def export_fp16(ctx: ExportContext, path: Path) -> ExportInfo:
    """FP16 weights and compute, float32 inputs and outputs (keep_io_types)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    try:
        model = convert_float_to_float16(onnx.load(str(ctx.base)), keep_io_types=True)
        wrapped = OnnxModel(model)
        wrapped.topological_sort()  # the converter appends its input casts at the end
        onnx.save(wrapped.model, str(path))
    except Exception as e:  # the converter raises plain exceptions
        raise ExportError(f"onnxruntime float16 conversion failed: {first_line(e)}") from e
    opsets = _keep_used_opsets(path)
    _check(path)
    return _info(ctx, converter_settings={"keep_io_types": True}, opset_imports=opsets)


def export_int8(ctx: ExportContext, path: Path) -> ExportInfo:
    """Static QDQ: per-channel symmetric int8 weights, uint8 activations, MinMax ranges."""
    return _quantize(ctx, path)


def export_int8_entropy(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 1: activation ranges from the entropy (KL) criterion, not min/max."""
    return _quantize(ctx, path, calibration="Entropy")


def export_int8_percentile(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 1: activation ranges clipped at the 99.999th percentile."""
    return _quantize(ctx, path, calibration="Percentile")


def export_int8_keep_sensitive(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 2: plain INT8 first, then the nodes of the layers that lose the most
    precision against PyTorch (``sensitivity``), and of the first and last, stay in float."""
    from .sensitivity import keep_sensitive

    return keep_sensitive(ctx, path, "onnx", lambda to, keep: _quantize(ctx, to, exclude=keep))


def export_int8_a16(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 3: int8 weights, 16-bit activations (the com.microsoft QDQ operators)."""
    return _quantize(ctx, path, activations="QUInt16")


def _quantize(ctx: ExportContext, path: Path, calibration: str = "MinMax", exclude: tuple = (),
              activations: str = "QUInt8") -> ExportInfo:
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from ._quiet import captured_output

    settings = Quantization(format="QDQ", per_channel=True, activations=activations, weights="QInt8",
                            calibration=calibration, samples=len(ctx.calibration),
                            kept_in_float=tuple(exclude))
    extra = {}
    if activations.endswith("16"):  # as com.microsoft QDQ: onnxruntime's own operators
        extra["UseQDQContribOps"] = True
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        try:
            quant_pre_process(str(ctx.base), str(prepared))
            with captured_output():  # the Entropy and Percentile calibrators print to stdout
                _quantize_static(prepared, path, ctx, calibration, exclude, activations, extra)
        except Exception as e:  # the quantiser raises plain exceptions
            raise ExportError(f"onnxruntime quantize_static failed: {first_line(e)}") from e
    opsets = _keep_used_opsets(path)
    _check(path)
    return _info(ctx, settings, opset_imports=opsets)


def _quantize_static(prepared: Path, path: Path, ctx: ExportContext, calibration: str, exclude: tuple,
                     activations: str, extra: dict) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    from .calibration import onnxruntime_reader

    quantize_static(str(prepared), str(path), onnxruntime_reader(ctx.calibration, INPUT_NAME),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=getattr(QuantType, activations), weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, calibration),
                    nodes_to_exclude=list(exclude) or None, extra_options=extra or None)
