"""The typed manifest: manifests edgebench wrote at schema version 1 load, write back the same
JSON (the converter renamed), and a damaged one is a one-line ``ValueError``."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from edgebench import artifacts
from edgebench.errors import UserInputError
from edgebench.manifest import Manifest, Quantization, TensorQuantization
from edgebench.results import Status, Validation
from edgebench.schema import SCHEMA_VERSION
from edgebench.zoo.spec import Preprocess

MANIFESTS = sorted((Path(__file__).parent / "fixtures" / "v1" / "manifests").glob("*.json"))


def _v1(name: str) -> dict:
    return json.loads((MANIFESTS[0].parent / f"{name}.json").read_text())


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_a_version_1_manifest_loads_typed_and_writes_back_the_same_json(path):
    data = json.loads(path.read_text())
    m = Manifest.from_dict(data)
    assert isinstance(m.preprocess, Preprocess) and isinstance(m.validation, Validation)
    assert m.status == Status(data["status"]) and m.size_bytes == data["size_bytes"]
    assert m.file.sha256 == data["file"]["sha256"] and len(m.files) == len(data["files"])
    assert m.converter_description == data["converter"]
    assert m.converter == (None if data["converter_name"] == "default" else data["converter_name"])
    expected = {k: v for k, v in data.items() if k not in ("converter", "converter_name")}
    out = m.to_dict()
    assert out == {**expected, "schema_version": SCHEMA_VERSION, "converter": m.converter,
                   "converter_description": m.converter_description}
    assert Manifest.from_dict(json.loads(json.dumps(out))) == m  # round trip through JSON


def test_what_each_converter_reported_is_typed():
    tflite = Manifest.from_dict(_v1("ckpt-tflite-int8"))
    assert tflite.quantization.tool == "ai-edge-quantizer"
    assert isinstance(tflite.quantization.input, TensorQuantization)
    assert tflite.quantization.input.dtype == "int8" and tflite.quantization.samples == 32
    onnx = Manifest.from_dict(_v1("ckpt-onnx-int8"))
    assert onnx.quantization == Quantization(format="QDQ", per_channel=True, activations="QUInt8",
                                             weights="QInt8", calibration="MinMax", samples=32)
    assert onnx.conversion.opset == 17 and onnx.conversion.opset_imports == {"ai.onnx": 17}
    assert Manifest.from_dict(_v1("ckpt-openvino-int8")).quantization.preset == "performance"
    assert Manifest.from_dict(_v1("ckpt-openvino-fp16")).conversion.compress_to_fp16 is True
    assert Manifest.from_dict(_v1("ckpt-openvino-bf16")).conversion.inference_precision_hint == "bf16"
    onnx2tf = Manifest.from_dict(_v1("ckpt-tflite-fp32-onnx2tf"))
    assert onnx2tf.converter == "onnx2tf" and onnx2tf.quantization is None
    assert onnx2tf.conversion.converter_environment == {"onnx2tf": "1.29.24"}
    random = Manifest.from_dict(_v1("random-onnx-fp32"))
    assert random.weights.identity.startswith("random:seed=0:") and random.dataset is None
    checkpoint = Manifest.from_dict(_v1("ckpt-onnx-fp32"))
    assert checkpoint.weights.choice == "/tmp/fx/ckpt.pt"
    assert checkpoint.dataset.eval_spec == "fashion-mnist:test" and len(checkpoint.dataset.classes) == 10


def test_a_new_manifest_round_trips():
    m = replace(Manifest.from_dict(_v1("ckpt-tflite-int8-onnx2tf")),
                rescue={"chosen": "int8", "met": True}, stage=None,
                quantization=Quantization(tool="nncf", kept_in_float=("conv1",)))
    data = m.to_dict()
    assert data["schema_version"] == SCHEMA_VERSION and data["quantization"] == {
        "tool": "nncf", "kept_in_float": ["conv1"]}
    assert Manifest.from_dict(data) == m


DAMAGE = {  # each changes the manifest in place
    "no model": (lambda m: m.pop("model"), "model is missing"),
    "resolution is text": (lambda m: m["model"].update(resolution="8"), "model.resolution is not"),
    "shape is text": (lambda m: m["input"].update(shape="1x3"), "input.shape is not a list"),
    "size is true": (lambda m: m["files"][0].update(size_bytes=True), "files[].size_bytes"),
    "unknown status": (lambda m: m.update(status="fine"), "status is 'fine'"),
    "scale is text": (lambda m: m["quantization"]["input"].update(scale="x"),
                      "quantization.input.scale is not a number"),
    "unknown key": (lambda m: m.update(colour="red"), "unknown fields colour"),
    "sizes disagree": (lambda m: m.update(size_bytes=1), "not the sum"),
    "no files": (lambda m: m.update(files=[]), "file and files[0] disagree"),
    "newer": (lambda m: m.update(schema_version=SCHEMA_VERSION + 1), "upgrade edgebench"),
    "crop": (lambda m: m["preprocess"].update(crop="random"), "preprocess.crop"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_manifest_is_a_one_line_error_naming_the_value(damage, tmp_path):
    change, needle = DAMAGE[damage]
    data = _v1("ckpt-tflite-int8")
    change(data)
    with pytest.raises(ValueError, match=needle.replace("[", r"\[").replace("]", r"\]")) as e:
        Manifest.from_dict(data)
    assert "\n" not in str(e.value)
    (tmp_path / artifacts.MANIFEST).write_text(json.dumps(data))
    with pytest.raises(UserInputError, match="is not a valid edgebench manifest"):
        artifacts.read(tmp_path)


def test_a_manifest_without_preprocessing_says_so_when_it_is_needed():
    data = _v1("random-onnx-fp32")
    data.pop("preprocess")
    with pytest.raises(UserInputError, match="records no preprocessing"):
        Manifest.from_dict(data).preprocessing("a/onnx-fp32")
