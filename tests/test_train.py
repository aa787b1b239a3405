"""``edgebench train``: a checkpoint whose metadata export and eval use without flags."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from edgebench import zoo
from edgebench.artifacts import read
from edgebench.data.fashion_mnist import FASHION_MNIST_CLASSES
from edgebench.export import ExportRequest, run as export
from edgebench.results import TrainResult
from edgebench.train import TrainRequest, run
from edgebench.zoo.weights import load_state_dict, read_meta
from tests.helpers import TEST_SAMPLES, assert_one_line_error


@pytest.fixture(scope="module")
def trained(fm_training):
    """The session's checkpoint (conftest.py trains it once, as `edgebench train` does)."""
    return fm_training.result, fm_training.checkpoint, list(fm_training.warnings)


def test_training_writes_a_checkpoint_with_its_metadata(trained):
    result, out, warnings = trained
    meta = read_meta(out)
    assert out.is_file() and not list(out.parent.glob(".*partial*"))
    assert meta.model == "resnet18" and meta.dataset == "fashion-mnist"
    assert meta.classes == FASHION_MNIST_CLASSES and meta.preprocess["resolution"] == 32
    assert meta.train_split == "train" and meta.eval_split == "test"
    assert meta.recipe["epochs"] == 2 and meta.recipe["train_images"] == 1024
    assert set(meta.dataset_identity) == {"train", "test"}
    assert meta.test_samples == result.test_samples == TEST_SAMPLES  # the first N of the split
    assert meta.test_top1 == result.test_top1
    # trained, not chance: 1,024 images for two epochs already beat 10% by far
    assert 30 < result.test_top1 <= 100
    assert [h["loss"] for h in result.history][1] < result.history[0]["loss"]
    assert any("training from random initialisation" in w for w in warnings)
    assert load_state_dict(out)["fc.weight"].shape == (10, 512)
    assert TrainResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_export_takes_resolution_calibration_and_validation_from_the_checkpoint(trained, tmp_path):
    _, out, _ = trained
    cells = export(ExportRequest(model="resnet18", weights=str(out), formats=("onnx",),
                                 precisions=("fp32", "int8"), out_dir=tmp_path,
                                 validate_samples=200))
    assert [c.status for c in cells][0] == "ok"
    m = read(tmp_path / "resnet18" / "onnx-int8").manifest
    assert m.input.shape == (1, 3, 32, 32) and m.preprocess.mean == (0.286,) * 3
    assert m.calibration == "fashion-mnist:train [0:300]"
    assert m.validation.inputs == "fashion-mnist:test [0:200]"
    assert m.dataset.classes == tuple(FASHION_MNIST_CLASSES)


@pytest.mark.slow
def test_frozen_backbone_keeps_the_pretrained_weights(tmp_path):
    out = tmp_path / "lite.safetensors"
    result = run(TrainRequest("efficientnet_lite0", "fashion-mnist:train:256", epochs=2,
                              resolution=64, freeze_backbone=True, batch=64, out=out,
                              test_samples=256))
    entry = zoo.get("efficientnet_lite0")
    pretrained = torch.load(entry.imagenet.locate(), map_location="cpu", weights_only=True)
    trained = load_state_dict(out)
    assert result.started_from == "imagenet" and read_meta(out).recipe["freeze_backbone"]
    for key in ("_conv_stem.weight", "_blocks.5._depthwise_conv.weight", "_bn1.running_mean"):
        assert torch.equal(trained[key], pretrained[key]), key
    assert trained["_fc.weight"].shape == (10, 1280)
    assert read_meta(out).preprocess["mean"] == list(entry.preprocess.mean)


@pytest.mark.parametrize("args,needle", [
    (["--freeze-backbone"], "--freeze-backbone needs pretrained weights"),
    (["--out", "model.onnx"], "a checkpoint ends in .pt or .safetensors"),
    (["--test-samples", "0"], "--test-samples"),
    (["--dataset", "imagefolder:/no/such/folder"], "does not exist"),
])
def test_bad_training_input_is_one_line(run_cli, args, needle, tmp_path):
    dataset = [] if "--dataset" in args else ["--dataset", "fashion-mnist:train:64"]
    code, _, err = run_cli("train", "resnet18", *dataset, *args)
    assert_one_line_error(code, err, needle, expected_code=2)


def test_a_head_for_other_classes_is_refused_by_eval(trained, run_cli, tmp_path):
    images = tmp_path / "two"
    from PIL import Image

    for cls in ("a", "b"):
        (images / cls).mkdir(parents=True)
        Image.new("L", (28, 28), 40).save(images / cls / "x.png")
    _, out, _ = trained
    code, _, err = run_cli("eval", "zoo:resnet18", "--weights", out, "--dataset",
                           f"imagefolder:{images}")
    assert_one_line_error(code, err, "has 10 classes but imagefolder:all has 2", expected_code=2)


def test_ctrl_c_during_training_leaves_no_checkpoint(tmp_path):
    out = tmp_path / "ckpt" / "r18.pt"
    proc = subprocess.Popen([sys.executable, "-m", "edgebench", "train", "resnet18", "--dataset",
                             "fashion-mnist:train:20000", "--epochs", "3", "--out", str(out)],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # preprocessing is done and training has begun on this machine
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.rglob("*partial*"))


def test_augmentation_is_a_padded_crop_maybe_mirrored():
    from edgebench.train import _augment

    x = torch.randn(16, 3, 32, 32)
    black = torch.tensor([-1.0, -2.0, -3.0])
    y = _augment(torch, x, 3, torch.Generator().manual_seed(0), black)
    padded = torch.stack([torch.nn.functional.pad(x[:, k], (3, 3, 3, 3), value=float(black[k]))
                          for k in range(3)], dim=1)
    flipped = 0
    for i in range(16):
        crops = [padded[i, :, a:a + 32, b:b + 32] for a in range(7) for b in range(7)]
        plain = any(torch.equal(y[i], c) for c in crops)
        mirrored = any(torch.equal(y[i], c.flip(-1)) for c in crops)
        assert plain or mirrored, i
        flipped += mirrored and not plain
    assert 0 < flipped < 16  # both kinds occur
