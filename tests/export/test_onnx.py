"""ONNX export and validation end to end, with real torch and onnxruntime."""

import json

import numpy as np
import onnx
import pytest
import torch
import torchvision
from PIL import Image

from edgebench import artifacts, zoo
from edgebench.data.photos import data_dir
from edgebench.errors import UserInputError
from edgebench.export import ExportRequest, run
from edgebench.runtimes import infer
from edgebench.runtimes import onnxruntime as ort_backend
from edgebench.zoo.weights import sha256_file

SMALL = ["resnet18", "efficientnet_b0", "mobilenet_v3_large", "efficientnet_lite0"]
IMAGENET_TIGER_CAT, IMAGENET_ESPRESSO = 282, 967


def _export(tmp_path, model, **kw):
    (result,) = run(ExportRequest(model=model, out_dir=tmp_path,
                                  **{"formats": ("onnx",), "validate_samples": 40, **kw}))
    return result


@pytest.mark.parametrize("name", SMALL)
def test_small_models_export_and_validate(tmp_path, name):
    weights = "imagenet" if name == "efficientnet_lite0" else "random"
    result = _export(tmp_path, name, weights=weights)
    assert result.status == "ok", result.reason
    art = result.artifact
    m = art.manifest.to_dict()  # the JSON layout users and the report read
    assert art.path == tmp_path / name / "onnx-fp32"
    onnx.checker.check_model(str(art.model_file), full_check=True)
    assert m["file"]["sha256"] == sha256_file(art.model_file)
    assert m["file"]["size_bytes"] == m["size_bytes"] == art.model_file.stat().st_size
    assert m["weights"]["source"] == weights
    assert m["input"] == {"name": "input", "shape": [1, 3, zoo.get(name).resolution,
                                                      zoo.get(name).resolution],
                          "dtype": "float32", "layout": "NCHW"}
    assert m["opset"] == 17 and m["precision"] == "fp32" and m["format"] == "onnx"
    assert m["preprocess"]["mean"] == list(zoo.get(name).preprocess.mean)
    assert m["tools"]["onnxruntime"] and m["tools"]["torch"] and m["export_seconds"] > 0
    v = m["validation"]
    assert v["samples"] == 40 and v["top1_agreement"] == 1.0 and v["min_cosine"] > 0.99999
    assert json.loads((art.path / "manifest.json").read_text()) == m


def test_real_weights_predict_the_photo_in_pytorch_and_onnx(tmp_path):
    result = _export(tmp_path, "efficientnet_lite0", weights="imagenet")
    entry = zoo.get("efficientnet_lite0")
    session = ort_backend.load(result.artifact.model_file)
    for photo, label in (("chelsea.png", IMAGENET_TIGER_CAT), ("coffee.png", IMAGENET_ESPRESSO)):
        with Image.open(data_dir() / photo) as image:
            x = entry.preprocess(image)[None]
        assert int(infer(session, x).argmax()) == label


def test_second_identical_export_is_a_cache_hit(tmp_path):
    first = _export(tmp_path, "resnet18", weights="random")
    mtime = first.artifact.model_file.stat().st_mtime_ns
    second = _export(tmp_path, "resnet18", weights="random")
    assert second.cached and not first.cached
    assert second.artifact.model_file.stat().st_mtime_ns == mtime
    assert second.artifact.manifest.cache_key == first.artifact.manifest.cache_key
    # any option that changes the bytes is a miss
    other = _export(tmp_path, "resnet18", weights="random", opset=13)
    assert not other.cached and other.artifact.manifest.conversion.opset == 13
    forced = _export(tmp_path, "resnet18", weights="random", opset=13, force=True)
    assert not forced.cached


def test_dynamic_batch_and_other_resolution(tmp_path):
    result = _export(tmp_path, "resnet18", weights="random", resolution=160, dynamic_batch=True)
    assert result.status == "ok"
    assert result.artifact.manifest.input.shape == ("batch", 3, 160, 160)
    session = ort_backend.load(result.artifact.model_file)
    assert infer(session, np.zeros((3, 3, 160, 160), np.float32)).shape == (3, 1000)


def test_checkpoint_export_keeps_its_class_count(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "ten.pt"
    torch.save(torchvision.models.resnet18(num_classes=10).state_dict(), path)
    result = _export(tmp_path, "resnet18", weights=str(path))
    assert result.status == "ok"
    m = result.artifact.manifest
    assert m.output.shape == (1, 10) and m.weights.sha256 == sha256_file(path)


def test_a_diverged_checkpoint_fails_validation_and_keeps_the_file(tmp_path):
    # a real failure: NaN weights make every output NaN
    state = torchvision.models.resnet18(num_classes=10).state_dict()
    state["fc.weight"][:] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save(state, path)
    result = _export(tmp_path, "resnet18", weights=str(path))
    assert result.status == "failed" and "NaN" in result.reason
    assert result.artifact.model_file.is_file()
    assert result.artifact.manifest.validation.outcome == "failed"
    # the same failure is reported again from the cache; --force redoes it
    again = _export(tmp_path, "resnet18", weights=str(path))
    assert again.cached and again.status == "failed"
    assert not _export(tmp_path, "resnet18", weights=str(path), force=True).cached


@pytest.mark.parametrize("kw,match", [({"resolution": 0}, "--resolution must be"),
                                      ({"resolution": -3}, "--resolution must be"),
                                      ({"opset": 99}, "opset 99"),
                                      ({"formats": ("tflit",)}, "unknown format")])
def test_bad_options_leave_nothing_behind(tmp_path, kw, match):
    with pytest.raises(UserInputError, match=match):
        _export(tmp_path, "resnet18", weights="random", **kw)
    assert not list(tmp_path.rglob("manifest.json")) and not list(tmp_path.rglob(".staging-*"))
    assert artifacts.read(tmp_path / "resnet18" / "onnx-fp32") is None
