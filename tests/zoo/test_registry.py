import json

import pytest
import torch
import torchvision.models as tvm
from PIL import Image

from edgebench import zoo
from edgebench.data.photos import photo_paths
from edgebench.errors import UnknownModelError
from edgebench.zoo.counting import count
from edgebench.zoo.spec import TorchvisionWeights

ALL = zoo.list_models()
TORCHVISION = [n for n in ALL if isinstance(zoo.get(n).imagenet, TorchvisionWeights)]
COMPARISON = (["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
              + [f"efficientnet_b{i}" for i in range(8)]
              + ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"])


def _tv_weights(name):
    cls_name, member = zoo.get(name).imagenet.enum.split(".")
    return getattr(getattr(tvm, cls_name), member)


def test_zoo_holds_the_comparison_and_two_edge_baselines():
    assert set(COMPARISON + ["mobilenet_v3_large", "efficientnet_lite0"]) == set(ALL)
    assert len(ALL) == 18


@pytest.mark.parametrize("name", ALL)
def test_entry_builds_and_runs(name):
    entry = zoo.get(name)
    torch.manual_seed(0)
    model = entry.build(10, entry.resolution).eval()
    with torch.no_grad():
        y = model(torch.randn(1, 3, 64, 64))
    assert y.shape == (1, 10)
    assert entry.head in model.state_dict()
    assert model.state_dict()[entry.head].shape[0] == 10


@pytest.mark.parametrize("name", ALL)
def test_counts_file_matches_a_fresh_count(name):
    shipped = zoo.counts(name)
    assert shipped is not None, "run: python -m edgebench.zoo.counting --write"
    assert count(zoo.get(name)) == shipped


@pytest.mark.parametrize("name", TORCHVISION)
def test_counts_agree_with_torchvision_meta_within_1_percent(name):
    meta = _tv_weights(name).meta
    c = zoo.counts(name)
    assert c.params == pytest.approx(meta["num_params"], rel=0.01)
    assert c.gmacs == pytest.approx(meta["_ops"], rel=0.01)


@pytest.mark.parametrize("name", TORCHVISION)
def test_metadata_matches_the_published_weights_entry(name):
    entry, weights = zoo.get(name), _tv_weights(name)
    assert entry.ref_top1 == pytest.approx(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"])
    assert weights.url.endswith("/" + entry.imagenet.file_name)
    t = weights.transforms()
    pp = entry.preprocess
    assert (pp.resolution, pp.resize) == (t.crop_size[0], t.resize_size[0])
    assert pp.interpolation == t.interpolation.value
    assert pp.mean == pytest.approx(tuple(t.mean)) and pp.std == pytest.approx(tuple(t.std))


@pytest.mark.parametrize("name", TORCHVISION)
def test_preprocess_equals_torchvision_eval_transform_on_a_real_photo(name):
    transform = _tv_weights(name).transforms()
    with Image.open(photo_paths()[0]) as image:
        ours = zoo.get(name).preprocess(image)
        theirs = transform(image).numpy()
    assert ours.shape == theirs.shape
    assert abs(ours - theirs).max() < 1e-5


def test_published_figures_match_the_counted_table():
    # torchvision's published parameter and GMAC figures (rounded as published), re-read
    # from our counted table
    expect = {"resnet50": ("25.56", "4.09"), "efficientnet_b0": ("5.29", "0.39"),
              "efficientnet_b7": ("66.35", "37.75"), "efficientnet_v2_l": ("118.5", "56.1")}
    for name, (params_m, gmacs) in expect.items():
        c = zoo.counts(name)
        for counted, published in ((c.params_m, params_m), (c.gmacs, gmacs)):
            decimals = len(published.split(".")[1])
            assert round(counted, decimals) == pytest.approx(float(published))


def test_list_models_filters_with_globs():
    assert zoo.list_models("efficientnet_b*") == [f"efficientnet_b{i}" for i in range(8)]
    assert zoo.list_models("resnet1*") == ["resnet18", "resnet101", "resnet152"]
    assert zoo.list_models("nothing*") == []


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownModelError, match="resnet50"):
        zoo.get("resnet5O")
    with pytest.raises(UnknownModelError, match="edgebench list"):
        zoo.get("zzzz")


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="twice"):
        zoo.register(zoo.get("resnet18"))


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


def test_counts_json_is_valid_json_keyed_by_zoo_names():
    from importlib import resources

    table = json.loads(resources.files("edgebench.zoo").joinpath("counts.json").read_text())
    assert set(table) == set(ALL)
    for name, row in table.items():  # every row is a count of that model at its own resolution
        assert row["resolution"] == zoo.get(name).resolution and row["params"] > 0 and row["macs"] > 0
