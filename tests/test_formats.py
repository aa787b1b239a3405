import pytest

from edgebench import formats
from edgebench.errors import UnsupportedError, UserInputError


@pytest.mark.parametrize("cap", formats.CAPABILITIES, ids=lambda c: c.key)
def test_every_row_resolves_to_code(cap):
    assert callable(cap.load_exporter())
    backend = cap.validation_runtime.load_backend()
    assert callable(backend.load)
    assert cap.precision in formats.PRECISIONS and cap.format in formats.FORMATS
    assert formats.lookup(cap.format, cap.precision, cap.converter_name) is cap
    assert len({(c.format, c.precision, c.converter_name) for c in formats.CAPABILITIES}) == \
        len(formats.CAPABILITIES)  # one row per (format, precision, converter)


@pytest.mark.parametrize("spec", formats.FORMATS.values(), ids=lambda f: f.name)
def test_each_format_is_validated_by_a_declared_runtime_that_loads_it(spec):
    runtime = formats.RUNTIMES[spec.validated_by]
    assert spec.name in runtime.formats  # its own format, not the reference or the null one
    assert not runtime.reference and not runtime.any_format
    assert all(c.validation_runtime is runtime for c in formats.CAPABILITIES if c.format == spec.name)


@pytest.mark.parametrize("converter", formats.converters())
def test_each_converter_is_a_dimension_of_the_table(converter):
    name = formats.converter_name(converter)
    made = formats.made_by(name)
    assert made, converter
    for cap in (c for c in formats.CAPABILITIES if c.converter_name == name):
        assert cap.format in made
        assert cap.key == f"{cap.format}-{cap.precision}" + (f"-{name}" if name else "")
        # its FP32 base is made by the same converter
        assert formats.lookup(cap.format, "fp32", name).converter_name == name


def test_a_converter_that_does_not_make_a_pair_says_what_it_makes():
    with pytest.raises(UnsupportedError, match="tflite fp16 is not made by onnx2tf: it makes tflite fp32"):
        formats.lookup("tflite", "fp16", "onnx2tf")
    with pytest.raises(UserInputError, match="unknown converter 'tf2onnx': choose from default, onnx2tf"):
        formats.converter_name("tf2onnx")


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(UserInputError, match="unknown format 'tflit'.*onnx"):
        formats.lookup("tflit", "fp32")


def test_unsupported_pair_lists_what_is_supported():
    with pytest.raises(UnsupportedError, match="onnx int4 is not supported: onnx supports fp32"):
        formats.lookup("onnx", "int4")
    with pytest.raises(UnsupportedError, match="onnx bf16 .* bf16 is available in openvino"):
        formats.lookup("onnx", "bf16")


@pytest.mark.parametrize("text,runtime,spec", [
    ("onnxruntime", "onnxruntime", "onnxruntime"),
    ("onnxruntime==1.16.3", "onnxruntime", "onnxruntime==1.16.3"),
    (" openvino == 2024.0.0 ", "openvino", "openvino==2024.0.0"),
    ("tflite-runtime==2.14.0", "tflite", "tflite-runtime==2.14.0"),
    ("ai-edge-litert==2.3.0", "tflite", "ai-edge-litert==2.3.0"),
])
def test_runtimes_are_named_or_pinned_to_an_exact_version(text, runtime, spec):
    choice = formats.parse_runtime(text)
    assert (choice.runtime, choice.spec) == (runtime, spec)
    assert (choice.env_name is None) == ("==" not in text)


@pytest.mark.parametrize("spec,numpy", [
    ("onnxruntime==1.16.3", "numpy<2"), ("onnxruntime==1.19.0", "numpy"),
    ("onnxruntime==1.32.0", "numpy"), ("openvino==2023.3.0", "numpy<2"),
    ("openvino==2026.3.0", "numpy"), ("tflite-runtime==2.14.0", "numpy<2"),
])
def test_wheels_built_before_numpy_2_get_numpy_1(spec, numpy):
    assert formats.parse_runtime(spec).requirements() == [numpy, spec]


@pytest.mark.parametrize("text,needle", [
    ("onnxruntim", "unknown runtime 'onnxruntim': choose from onnxruntime"),
    ("torch==2.1.0", "'torch' cannot be pinned: pin one of onnxruntime"),
    ("onnxruntime==1.16", None),
    ("onnxruntime==>1.16", "the version must be exact"),
    ("onnxruntime==", "the version must be exact"),
])
def test_bad_runtime_names(text, needle):
    if needle is None:
        assert formats.parse_runtime(text).version == "1.16"
        return
    with pytest.raises(UserInputError, match=needle):
        formats.parse_runtime(text)


def test_runtime_lists():
    assert [c.spec for c in formats.parse_runtimes("onnxruntime==1.16.3, openvino")] == [
        "onnxruntime==1.16.3", "openvino"]
    assert formats.parse_runtimes(None) == ()
    with pytest.raises(UserInputError, match="--runtime is empty"):
        formats.parse_runtimes(" , ")


@pytest.mark.parametrize("precision", formats.PRECISIONS)
def test_every_precision_says_what_a_runtime_may_execute_it_as(precision):
    assert precision in formats.PRECISIONS[precision].executes_as


@pytest.mark.parametrize("model,fmt,precision,runtime,versions,cpu,covered", [
    ("resnet18", "openvino", "fp32", "openvino==2023.3.0", {"openvino": "2023.3.0"}, None, True),
    ("resnet50", "openvino", "int8", "openvino", {"openvino": "2023.3.0"}, None, True),
    ("resnet18", "openvino", "fp32", "openvino", {"openvino": "2024.0.0"}, None, False),
    ("resnet18", "onnx", "fp32", "openvino", {"openvino": "2023.3.0"}, None, False),  # ONNX loads
    ("efficientnet_b0", "openvino", "fp32", "openvino", {"openvino": "2023.3.0"}, None, False),
    ("efficientnet_b0", "onnx", "int8", "openvino", {"openvino": "2026.4.1"}, "Cortex-A72", True),
    ("efficientnet_b0", "onnx", "int8", "openvino", {"openvino": "2026.4.1"}, "Cortex-A76", False),
    ("efficientnet_b0", "onnx", "int8", "onnxruntime", {"openvino": "2026.4.1"}, "Cortex-A72", False),
    ("efficientnet_b0", "onnx", "int8", "openvino", {"openvino": "2026.3.0"}, "Cortex-A72", True),
    ("efficientnet_b0", "openvino", "int8", "openvino", {"openvino": "2026.3.0"}, "Cortex-A72", False),
    ("efficientnet_b0", "openvino", "int8", "openvino", {"openvino": "2026.4.1"}, "Cortex-A72", True),
    ("resnet18", "onnx", "int8", "openvino", {"openvino": "2024.0.0"}, "Cortex-A72", False),
])
def test_version_limits_cover_only_their_cells(model, fmt, precision, runtime, versions, cpu, covered):
    limit = formats.known_limit(model, fmt, precision, runtime, versions, cpu)
    assert (limit is not None) == covered
