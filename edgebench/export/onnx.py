"""ONNX export through torch.onnx's TorchScript exporter (fast, and it emits opset 17)."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import ExportError, UserInputError
from .options import ExportInfo, ExportOptions

INPUT_NAME, OUTPUT_NAME = "input", "logits"


def export_fp32(model, sample, path: Path, options: ExportOptions) -> ExportInfo:
    """Write ``model`` to ``path`` and run onnx.checker's full check on it."""
    import onnx
    import torch
    from torch.onnx import _constants

    lo, hi = _constants.ONNX_MIN_OPSET, _constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET
    if not lo <= options.opset <= hi:
        raise UserInputError(f"--opset {options.opset} is out of range: choose {lo} to {hi}")
    dynamic = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if options.dynamic_batch else None
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
            torch.onnx.export(model, (sample,), str(path), dynamo=False, opset_version=options.opset,
                              input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                              dynamic_axes=dynamic, do_constant_folding=True)
    except (RuntimeError, ValueError, TypeError, torch.onnx.errors.OnnxExporterError) as e:
        raise ExportError(f"torch.onnx.export failed: {str(e).strip().splitlines()[0][:300]}") from e
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as e:
        raise ExportError(f"onnx.checker rejected the export: {str(e).splitlines()[0][:300]}") from e
    batch = "batch" if options.dynamic_batch else 1
    return ExportInfo(
        input_name=INPUT_NAME,
        input_shape=(batch, 3, options.resolution, options.resolution),
        input_dtype="float32",
        layout="NCHW",
        output_name=OUTPUT_NAME,
        extra={"opset": options.opset},
    )
