import pytest
import torch
import torchvision
from safetensors.torch import save_file

from edgebench import zoo
from edgebench.errors import CheckpointError, UserInputError, WeightsUnavailableError
from edgebench.zoo.weights import (RANDOM_RECIPE, build_model, channels_last_input, image_like_batch,
                                   resolve, sha256_file)


@pytest.fixture
def resnet18_state():
    torch.manual_seed(1)
    return torchvision.models.resnet18(num_classes=10).state_dict()


def test_random_weights_are_seeded_and_reproducible():
    entry = zoo.get("resnet18")
    w = resolve(entry, "random")
    a, b = build_model(entry, w, 224), build_model(entry, w, 224)
    assert w.identity == f"random:seed=0:{RANDOM_RECIPE}"
    assert torch.equal(a.fc.weight, b.fc.weight) and torch.equal(a.bn1.running_var, b.bn1.running_var)


@pytest.mark.parametrize("name", ["efficientnet_b0", "resnet18", "mobilenet_v3_large"])
def test_random_weights_have_a_trained_models_activation_scale(name, tmp_path, monkeypatch):
    """torchvision's init leaves BatchNorm at identity: a random EfficientNet's logits are ~1e-13.
    Re-estimated statistics give logits of a usable scale that differ between images."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = zoo.get(name)
    x = image_like_batch(torch.Generator().manual_seed(5), 4, 64, entry.preprocess.mean,
                         entry.preprocess.std)
    torch.manual_seed(0)
    plain = entry.build(entry.num_classes, 64).eval()
    model = build_model(entry, resolve(entry, "random"), 64)
    with torch.no_grad():
        logits, before = model(x), plain(x)
    assert 1e-2 < logits.abs().max() < 1e3, logits.abs().max()
    assert logits.std(dim=0).mean() > 1e-3 * logits.abs().max()  # inputs still tell apart
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in plain.parameters())
    if name == "efficientnet_b0":
        assert before.abs().max() < 1e-6  # the degenerate init this replaces
    cached = list((tmp_path / "edgebench" / "random-weights").glob(f"{name}-seed0-64px-*.pt"))
    assert len(cached) == 1  # estimated once, then loaded
    again = build_model(entry, resolve(entry, "random"), 64)
    with torch.no_grad():
        assert torch.equal(again(x), logits)


def test_random_weights_keep_their_scale_on_real_photos(tmp_path, monkeypatch):
    """Statistics estimated on synthetic batches alone let a random EfficientNet's activations
    grow block by block on real images (logits near 300 at 64 px, FP16 rounding of the
    weights moving them 16%); crops of real photos in the estimate keep both trained-like."""
    import copy
    from dataclasses import replace

    from edgebench.data.photos import photo_batch

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = zoo.get("efficientnet_b0")
    model = build_model(entry, resolve(entry, "random"), 64)
    photos = torch.from_numpy(photo_batch(replace(entry.preprocess, resolution=64))[1])
    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for p in rounded.parameters():
            p.copy_(p.half().float())
        logits, moved = model(photos), rounded(photos)
    assert logits.abs().max() < 100, logits.abs().max()
    assert (moved - logits).abs().max() / logits.abs().max() < 0.05


def test_packaged_imagenet_weights_load_offline():
    entry = zoo.get("efficientnet_lite0")
    w = resolve(entry, "imagenet")
    assert w.kind == "imagenet" and w.path.is_file() and w.sha256 == sha256_file(w.path)
    model = build_model(entry, w, 224)
    assert model.state_dict()[entry.head].shape == (1000, 1280)


def test_missing_torchvision_weights_offline_name_the_cache_and_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    # a closed local port stands in for "offline", also on machines that are online
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with pytest.raises(WeightsUnavailableError) as e:
        resolve(zoo.get("resnet50"), "imagenet")
    msg = str(e.value)
    assert "resnet50-11ad3fa6.pth" in msg and "--weights random" in msg and "\n" not in msg


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".safetensors"])
def test_checkpoint_takes_its_class_count_from_the_head(tmp_path, resnet18_state, suffix):
    path = tmp_path / f"ckpt{suffix}"
    if suffix == ".safetensors":
        save_file(resnet18_state, str(path))
    else:
        torch.save({"state_dict": {f"module.{k}": v for k, v in resnet18_state.items()}}, path)
    entry = zoo.get("resnet18")
    model = build_model(entry, resolve(entry, str(path)), 224)
    assert model.fc.out_features == 10
    assert torch.equal(model.fc.weight, resnet18_state["fc.weight"])


def test_checkpoint_of_another_architecture_does_not_fit(tmp_path, resnet18_state):
    path = tmp_path / "r18.pt"
    torch.save(resnet18_state, path)
    entry = zoo.get("resnet50")
    with pytest.raises(CheckpointError, match="does not fit resnet50.*shape mismatches"):
        build_model(entry, resolve(entry, str(path)), 224)


def test_checkpoint_without_the_head_is_refused(tmp_path, resnet18_state):
    path = tmp_path / "r18.pt"
    torch.save(resnet18_state, path)
    entry = zoo.get("efficientnet_b0")
    with pytest.raises(CheckpointError, match="classifier.1.weight"):
        build_model(entry, resolve(entry, str(path)), 224)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all" * 100])
def test_corrupt_checkpoint(tmp_path, content):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    entry = zoo.get("resnet18")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        build_model(entry, resolve(entry, str(path)), 224)


def test_truncated_checkpoint(tmp_path, resnet18_state):
    path = tmp_path / "cut.pt"
    torch.save(resnet18_state, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    entry = zoo.get("resnet18")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        build_model(entry, resolve(entry, str(path)), 224)


def test_pickled_module_is_refused_by_weights_only(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(torchvision.models.resnet18(), path)
    entry = zoo.get("resnet18")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        build_model(entry, resolve(entry, str(path)), 224)


def test_quantised_checkpoint_is_refused(tmp_path, resnet18_state):
    state = dict(resnet18_state)
    state["fc.weight"] = torch.quantize_per_tensor(state["fc.weight"], 0.1, 0, torch.qint8)
    path = tmp_path / "q.pt"
    torch.save(state, path)
    entry = zoo.get("resnet18")
    with pytest.raises(CheckpointError, match="already quantised"):
        build_model(entry, resolve(entry, str(path)), 224)


@pytest.mark.parametrize("choice,match", [("missing.pt", "does not exist"),
                                          ("weights.bin", "neither imagenet")])
def test_bad_weights_choices(tmp_path, choice, match):
    with pytest.raises(UserInputError, match=match):
        resolve(zoo.get("resnet18"), str(tmp_path / choice))


def test_a_channels_last_input_is_the_same_function():
    """Export's NHWC layout and `diff` of an NHWC artifact both wrap the module this way."""
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten()).eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(channels_last_input(model)(x.permute(0, 2, 3, 1).contiguous()), model(x))
