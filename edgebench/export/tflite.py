"""TFLite: FP32 through litert-torch (keeps the NCHW input); FP16 and INT8 through
ai-edge-quantizer on that FP32 file.

INT8 uses the full-integer ``static_wi8_ai8`` recipe: the litert-torch PT2E path leaves
every SiLU and residual add in float, which made EfficientNet's INT8 slow.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import ExportError, first_line, require
from ..manifest import Conversion, Quantization, TensorQuantization
from ._quiet import captured_output
from .options import ExportContext, ExportInfo, input_shape


def _tensor(details: dict) -> TensorQuantization:
    scale, zero_point = details["quantization"][:2]
    return TensorQuantization(np.dtype(details["dtype"]).name, float(scale), int(zero_point))


def describe(path: Path, ctx: ExportContext, quantization: Quantization | None = None,
             conversion: Conversion = Conversion()) -> ExportInfo:
    """What a TFLite file is, read back from it: its input and output, and for an integer
    input, its quantisation parameters (every TFLite converter's exporter ends here)."""
    from ..runtimes.tflite import interpreter_class

    Interpreter, _, _ = interpreter_class()
    interp = Interpreter(model_path=str(path))
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    dtype = np.dtype(inp["dtype"]).name
    if dtype != "float32":
        quantization = replace(quantization or Quantization(), input=_tensor(inp),
                               output=_tensor(out))
    shape = input_shape(ctx.options)
    return ExportInfo(inp["name"], (1, *shape[1:]), dtype, ctx.options.layout.upper(),
                      out["name"], quantization, conversion)


def export_fp32(ctx: ExportContext, path: Path) -> ExportInfo:
    """A float32 ``model.tflite`` (static batch 1: the runtime resizes at load time)."""
    litert_torch = require("litert_torch", "tflite")
    try:
        with captured_output() as log:
            litert_torch.convert(ctx.model, (ctx.sample,)).export(str(path))
    except Exception as e:  # the converter raises many types
        raise ExportError(f"litert-torch failed: {first_line(e)}") from e
    if not path.is_file():
        raise ExportError(f"litert-torch wrote no file: {(log or ['no output'])[-1][:200]}")
    return describe(path, ctx)


def _quantizer(ctx: ExportContext, recipe=None):
    aeq = require("ai_edge_quantizer", "tflite")
    from ai_edge_quantizer import quantizer

    return aeq, quantizer.Quantizer(str(ctx.base), recipe)


def export_fp16(ctx: ExportContext, path: Path) -> ExportInfo:
    """Weights cast to float16 (half the file); compute stays float32."""
    _, qt = _quantizer(ctx)
    from ai_edge_quantizer import algorithm_manager, qtyping

    try:
        with captured_output():
            qt.add_weight_only_config(regex=".*", operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
                                      num_bits=16,
                                      algorithm_key=algorithm_manager.AlgorithmName.FLOAT_CASTING)
            qt.quantize().export_model(str(path))
    except Exception as e:  # the quantizer raises many types
        raise ExportError(f"ai-edge-quantizer FP16 failed: {first_line(e)}") from e
    return describe(path, ctx, Quantization(tool="ai-edge-quantizer", recipe="float16 weights"))


def export_int8(ctx: ExportContext, path: Path) -> ExportInfo:
    """Full-integer INT8: int8 weights and activations, int8 input and output tensors."""
    return _static(ctx, path, "static_wi8_ai8")


def export_int8_a16(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 3: int8 weights, 16-bit activations (TFLite's 16x8 quantisation)."""
    return _static(ctx, path, "static_wi8_ai16")


def export_int8_keep_sensitive(ctx: ExportContext, path: Path) -> ExportInfo:
    """Rescue rung 2: plain INT8 first, then the ops of the layers that lose the most
    precision against PyTorch (``sensitivity``), and of the first and last, stay in float."""
    from .sensitivity import keep_sensitive

    return keep_sensitive(ctx, path, "tflite", lambda to, keep: _static(ctx, to, "static_wi8_ai8", keep))


def _static(ctx: ExportContext, path: Path, name: str, keep: tuple[str, ...] = ()) -> ExportInfo:
    import re

    from ai_edge_quantizer import algorithm_manager, qtyping, recipe

    from ..runtimes.tflite import interpreter_class
    from .calibration import litert_signature_data

    _, qt = _quantizer(ctx, getattr(recipe, name)())
    if keep:  # an op's scope is its output tensors' names, each followed by ";"
        qt.update_quantization_recipe(
            regex="^(?:" + "|".join(re.escape(n) for n in keep) + ");$",
            operation_name=qtyping.TFLOperationName.ALL_SUPPORTED,
            algorithm_key=algorithm_manager.AlgorithmName.NO_QUANTIZE)
    Interpreter, _, _ = interpreter_class()
    signatures = Interpreter(model_path=str(ctx.base)).get_signature_list()
    signature, io = next(iter(signatures.items()))
    try:
        with captured_output():
            data = litert_signature_data(ctx.calibration, signature, io["inputs"][0])
            # its default of 16 calibration threads oversubscribes small machines
            calibrated = qt.calibrate(data, num_threads=os.cpu_count() or 1)
            qt.quantize(calibrated).export_model(str(path))
    except Exception as e:  # the quantizer raises many types
        raise ExportError(f"ai-edge-quantizer {name} failed: {first_line(e)}") from e
    return describe(path, ctx, Quantization(tool="ai-edge-quantizer", recipe=name,
                                            samples=len(ctx.calibration), kept_in_float=tuple(keep)))
