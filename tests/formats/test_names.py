import pytest

from edgebench import formats
from edgebench.errors import UserInputError


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


def test_a_cells_runtime_names_its_row_pinned_or_not():
    assert formats.row_of("tflite-runtime==2.14.0") is formats.RUNTIMES["tflite"]
    assert formats.row_of("torch") is formats.reference_runtime()
    with pytest.raises(UserInputError, match="unknown runtime"):
        formats.row_of("tensorrt")


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
