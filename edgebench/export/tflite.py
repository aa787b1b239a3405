"""TFLite export through litert-torch (PyTorch to TFLite; keeps the NCHW input)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ExportError, require
from ..runtimes import first_line
from ._quiet import captured_output
from .options import ExportInfo, ExportOptions


def export_fp32(model, sample, path: Path, options: ExportOptions) -> ExportInfo:
    """Write a float32 ``model.tflite`` (static batch 1: TFLite resizes at load time)."""
    litert_torch = require("litert_torch", "tflite")
    try:
        with captured_output() as log:
            litert_torch.convert(model, (sample,)).export(str(path))
    except Exception as e:  # the converter raises many types
        raise ExportError(f"litert-torch failed: {first_line(e)}") from e
    if not path.is_file():
        raise ExportError(f"litert-torch wrote no file: {(log or ['no output'])[-1][:200]}")
    from ..runtimes.tflite import _interpreter

    Interpreter, _, _ = _interpreter()
    details = Interpreter(model_path=str(path)).get_input_details()[0]
    return ExportInfo(details["name"], (1, 3, options.resolution, options.resolution), "float32",
                      "NCHW", "output_0")
