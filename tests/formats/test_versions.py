import pytest

from edgebench import formats
from edgebench.formats.versions import VERSION_LIMITS, known_to_load, version_tuple


@pytest.mark.parametrize("spec,numpy", [
    ("onnxruntime==1.16.3", "numpy<2"), ("onnxruntime==1.19.0", "numpy"),
    ("onnxruntime==1.32.0", "numpy"), ("openvino==2023.3.0", "numpy<2"),
    ("openvino==2026.3.0", "numpy"), ("tflite-runtime==2.14.0", "numpy<2"),
])
def test_wheels_built_before_numpy_2_get_numpy_1(spec, numpy):
    assert formats.parse_runtime(spec).requirements() == [numpy, spec]


def test_versions_compare_as_numbers():
    assert version_tuple("2024.10.0") > version_tuple("2024.3.1")
    assert version_tuple("1.16.3") < version_tuple("1.19")


@pytest.mark.parametrize("limit", VERSION_LIMITS, ids=lambda v: f"{v.distribution}:{v.fact[:30]}")
def test_every_version_limit_is_about_a_distribution_the_table_pins(limit):
    pinnable = {d.name for r in formats.RUNTIMES.values() for d in r.distributions}
    assert limit.distribution in pinnable
    assert set(limit.formats) <= set(formats.FORMATS)
    assert limit.below or limit.versions


def test_known_to_load_is_measured_for_zoo_artifacts_only():
    assert known_to_load("resnet18", "openvino", "int8") == {"openvino": "2024.0.0"}
    assert known_to_load("mobilenet_v3_small", "onnx", "fp32") == {}
