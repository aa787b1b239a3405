"""TFLite exports described from the file itself: input, output and integer quantisation."""

import numpy as np

from edgebench.export import tflite
from edgebench.export.options import ExportContext, ExportOptions
from edgebench.manifest import Conversion, Quantization


def _context(resolution: int, **kwargs) -> ExportContext:
    return ExportContext(model=None, sample=None, options=ExportOptions(resolution), **kwargs)


def test_a_float_file_is_described_from_its_own_tensors(small_artifacts):
    given = Conversion(converter_settings={"note": "x"})
    info = tflite.describe(small_artifacts["tflite"] / "model.tflite", _context(64),
                           Quantization(tool="t"), given)
    assert (info.input_shape, info.input_dtype, info.layout) == ((1, 3, 64, 64), "float32", "NCHW")
    assert info.input_name and info.output_name
    # a float input has no parameters to add: what the exporter said is kept as it was
    assert info.conversion is given and info.quantization == Quantization(tool="t")


def test_full_integer_int8_has_integer_io_and_records_its_parameters(small_artifacts, tmp_path):
    samples = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)
    ctx = _context(64, base=small_artifacts["tflite"] / "model.tflite", calibration=samples)
    info = tflite.export_int8(ctx, tmp_path / "int8.tflite")
    q = info.quantization
    assert info.input_dtype == "int8" and q.input.dtype == q.output.dtype == "int8"
    assert q.input.scale > 0 and -128 <= q.input.zero_point <= 127
    assert (q.tool, q.recipe, q.samples) == ("ai-edge-quantizer", "static_wi8_ai8", 2)
    assert (tmp_path / "int8.tflite").stat().st_size < \
        (small_artifacts["tflite"] / "model.tflite").stat().st_size / 2
