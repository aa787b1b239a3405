"""`edgebench list`, `info` and `capabilities`."""

import json

import pytest

from edgebench import formats, zoo


def test_list_table_and_json(run_cli):
    code, out, _ = run_cli("list")
    assert code == 0
    for name in zoo.list_models():
        assert name in out
    code, out, _ = run_cli("list", "--json")
    rows = json.loads(out)
    assert [r["name"] for r in rows] == zoo.list_models()
    r50 = next(r for r in rows if r["name"] == "resnet50")
    assert r50["params_m"] == pytest.approx(25.557, abs=1e-3) and r50["gmacs"] == pytest.approx(4.089, abs=1e-3)
    assert r50["resolution"] == 224 and r50["ref_top1"] == pytest.approx(80.858)


def test_list_glob(run_cli):
    code, out, _ = run_cli("list", "efficientnet_v2_*", "--json")
    assert [r["name"] for r in json.loads(out)] == ["efficientnet_v2_s", "efficientnet_v2_m",
                                                    "efficientnet_v2_l"]


def test_info(run_cli):
    code, out, _ = run_cli("info", "efficientnet_lite0", "--json")
    data = json.loads(out)
    assert code == 0 and data["weights"]["imagenet"]["available_offline"] is True
    assert data["preprocess"]["interpolation"] == "bicubic" and data["classifier_weight"] == "_fc.weight"
    code, out, _ = run_cli("info", "resnet50")
    assert code == 0 and "ResNet50_Weights.IMAGENET1K_V2" in out


def test_capabilities_json_is_the_table_and_agrees_with_the_runtimes(run_cli):
    code, out, _ = run_cli("capabilities", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == len(formats.CAPABILITIES)
    for row, cap in zip(rows, formats.CAPABILITIES):
        assert (row["format"], row["precision"], row["converter"]) == (cap.format, cap.precision,
                                                                       cap.converter_description)
        # what the table says runs a format is exactly what each runtime says it loads
        assert row["runtimes"] == [r.name for r in formats.RUNTIMES.values() if cap.format in r.formats]
        assert row["validated_by"] == row["runtimes"][0]
    assert [r["runtimes"] for r in rows if r["format"] == "onnx"][0] == ["onnxruntime", "openvino"]
