"""The built-in entries: what the zoo holds, that each builds, and its published metadata."""

import pytest
import torch

from edgebench import zoo
from tests.helpers import torchvision_entries, torchvision_weights

ALL = zoo.list_models()
COMPARISON = (["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
              + [f"efficientnet_b{i}" for i in range(8)]
              + ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"])


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


@pytest.mark.parametrize("name", torchvision_entries())
def test_metadata_matches_the_published_weights_entry(name):
    entry, weights = zoo.get(name), torchvision_weights(name)
    assert entry.ref_top1 == pytest.approx(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"])
    assert weights.url.endswith("/" + entry.imagenet.file_name)
    t = weights.transforms()
    pp = entry.preprocess
    assert (pp.resolution, pp.resize) == (t.crop_size[0], t.resize_size[0])
    assert pp.interpolation == t.interpolation.value
    assert pp.mean == pytest.approx(tuple(t.mean)) and pp.std == pytest.approx(tuple(t.std))
