"""The INT8 rescue ladder's rungs: rows of the capability table's shape, with their order."""

from __future__ import annotations

from dataclasses import replace

from ..errors import UnsupportedError
from .table import ONNX_TOOLS, OPENVINO_TOOLS, TFLITE_TOOLS, Capability, lookup

# The INT8 rescue ladder's own rungs, tried in this order when an INT8 artifact falls below an
# accuracy floor (``edgebench export --int8 --accuracy-floor``), each format's in rung order;
# the last rung of every format is its FP16 artifact.
RESCUE_RUNGS: tuple[Capability, ...] = (
    Capability("onnx", "int8", "onnxruntime quantize_static (QDQ, Entropy calibration, 4x samples)",
               "edgebench.export.onnx:export_int8_entropy", ONNX_TOOLS, calibrated=True, rung=1,
               variant="entropy"),
    Capability("onnx", "int8", "onnxruntime quantize_static (QDQ, Percentile calibration, 4x "
               "samples)", "edgebench.export.onnx:export_int8_percentile", ONNX_TOOLS,
               calibrated=True, rung=1, variant="percentile"),
    Capability("onnx", "int8", "onnxruntime quantize_static, the most sensitive layers kept in "
               "float (layer-wise PSNR against PyTorch on the calibration set)",
               "edgebench.export.onnx:export_int8_keep_sensitive", ONNX_TOOLS, calibrated=True,
               rung=2, variant="keep-sensitive", size_checked=False),
    Capability("onnx", "int8", "onnxruntime quantize_static, int8 weights and 16-bit activations "
               "(com.microsoft QDQ: onnxruntime only)", "edgebench.export.onnx:export_int8_a16",
               ONNX_TOOLS, calibrated=True, rung=3, variant="a16"),
    Capability("openvino", "int8", "NNCF post-training quantisation (mean-quantile activation "
               "ranges, full bias correction, 4x samples)",
               "edgebench.export.openvino:export_int8_quantile", (*OPENVINO_TOOLS, "nncf"),
               extra="openvino", calibrated=True, rung=1, variant="quantile"),
    Capability("openvino", "int8", "NNCF post-training quantisation, the most sensitive layers "
               "kept in float (ignored scope from layer-wise PSNR against PyTorch)",
               "edgebench.export.openvino:export_int8_keep_sensitive", (*OPENVINO_TOOLS, "nncf"),
               extra="openvino", calibrated=True, rung=2, variant="keep-sensitive",
               size_checked=False),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai8 (min/max ranges from 4x the "
               "calibration samples)", "edgebench.export.tflite:export_int8", TFLITE_TOOLS,
               extra="tflite", calibrated=True, rung=1, variant="more-samples"),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai8, the most sensitive layers kept "
               "in float (no_quantize from layer-wise PSNR against PyTorch)",
               "edgebench.export.tflite:export_int8_keep_sensitive", TFLITE_TOOLS, extra="tflite",
               calibrated=True, rung=2, variant="keep-sensitive", size_checked=False),
    Capability("tflite", "int8", "ai-edge-quantizer static_wi8_ai16 (int8 weights, 16-bit "
               "activations)", "edgebench.export.tflite:export_int8_a16", TFLITE_TOOLS,
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
