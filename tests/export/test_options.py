"""What an exporter is given and reports: the input shape it promises, in its layout."""

import pytest

from edgebench.export.options import ExportInfo, ExportOptions, input_shape
from edgebench.manifest import Conversion, InputSpec


@pytest.mark.parametrize("layout,dynamic,expected", [
    ("nchw", False, (1, 3, 96, 96)),
    ("nhwc", False, (1, 96, 96, 3)),
    ("nchw", True, ("batch", 3, 96, 96)),
    ("nhwc", True, ("batch", 96, 96, 3)),
])
def test_the_promised_input_shape(layout, dynamic, expected):
    options = ExportOptions(resolution=96, dynamic_batch=dynamic, layout=layout)
    assert input_shape(options) == expected
    assert input_shape(options, batch="N")[0] == ("N" if dynamic else 1)


def test_defaults_are_a_static_nchw_opset_17_export():
    assert ExportOptions(resolution=64) == ExportOptions(64, 17, False, "nchw")


def test_input_spec_is_what_a_manifest_records():
    info = ExportInfo("input", ["batch", 3, 64, 64], "float32", "NCHW", "logits")
    assert info.input_spec() == InputSpec("input", ("batch", 3, 64, 64), "float32", "NCHW")
    # a float export reports no quantisation and no converter settings of its own
    assert info.quantization is None and info.conversion == Conversion()
    assert info.conversion.to_dict() == {}
