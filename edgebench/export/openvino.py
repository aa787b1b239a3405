"""OpenVINO IR export: ``openvino.convert_model`` on the eval-mode torch module."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import ExportError, require
from ..runtimes import first_line
from .onnx import INPUT_NAME, OUTPUT_NAME
from .options import ExportInfo, ExportOptions


def _convert(model, sample, options: ExportOptions):
    ov = require("openvino", "openvino")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit tracing deprecation notices
            converted = ov.convert_model(model, example_input=sample)
    except Exception as e:  # the frontends raise many types
        raise ExportError(f"openvino.convert_model failed: {first_line(e)}") from e
    converted.inputs[0].get_tensor().set_names({INPUT_NAME})
    converted.outputs[0].get_tensor().set_names({OUTPUT_NAME})
    # convert_model leaves every dimension dynamic; pin what the export promises
    batch = -1 if options.dynamic_batch else 1
    converted.reshape({converted.inputs[0]: [batch, 3, options.resolution, options.resolution]})
    return ov, converted


def export_fp32(model, sample, path: Path, options: ExportOptions) -> ExportInfo:
    """Write ``model.xml`` + ``model.bin`` with FP32 weights."""
    ov, converted = _convert(model, sample, options)
    ov.save_model(converted, str(path), compress_to_fp16=False)
    batch = "batch" if options.dynamic_batch else 1
    return ExportInfo(INPUT_NAME, (batch, 3, options.resolution, options.resolution), "float32",
                      "NCHW", OUTPUT_NAME, extra={"files": [path.name, path.with_suffix(".bin").name]})
