import pytest

from edgebench import formats
from edgebench.errors import UnsupportedError, UserInputError


@pytest.mark.parametrize("cap", formats.CAPABILITIES, ids=lambda c: c.key)
def test_every_row_resolves_to_code(cap):
    assert callable(cap.load_exporter())
    backend = cap.validation_runtime.load_backend()
    assert callable(backend.load)
    assert cap.precision in formats.PRECISIONS and cap.format in formats.FORMATS
    assert formats.lookup(cap.format, cap.precision) is cap


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(UserInputError, match="unknown format 'tflit'.*onnx"):
        formats.lookup("tflit", "fp32")


def test_unsupported_pair_lists_what_is_supported():
    with pytest.raises(UnsupportedError, match="onnx int4 is not supported: onnx supports fp32"):
        formats.lookup("onnx", "int4")
    with pytest.raises(UnsupportedError, match="onnx bf16 .* bf16 is available in openvino"):
        formats.lookup("onnx", "bf16")
