"""Parameter and MAC counts: counted from the models, shipped in counts.json."""

import json

import pytest

from edgebench import zoo
from edgebench.zoo.counting import count
from tests.helpers import torchvision_entries, torchvision_weights

ALL = zoo.list_models()


@pytest.mark.parametrize("name", ALL)
def test_counts_file_matches_a_fresh_count(name):
    shipped = zoo.counts(name)
    assert shipped is not None, "run: python -m edgebench.zoo.counting --write"
    assert count(zoo.get(name)) == shipped


@pytest.mark.parametrize("name", torchvision_entries())
def test_counts_agree_with_torchvision_meta_within_1_percent(name):
    meta = torchvision_weights(name).meta
    c = zoo.counts(name)
    assert c.params == pytest.approx(meta["num_params"], rel=0.01)
    assert c.gmacs == pytest.approx(meta["_ops"], rel=0.01)


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


def test_counts_json_is_valid_json_keyed_by_zoo_names():
    from importlib import resources

    table = json.loads(resources.files("edgebench.zoo").joinpath("counts.json").read_text())
    assert set(table) == set(ALL)
    for name, row in table.items():  # every row is a count of that model at its own resolution
        assert row["resolution"] == zoo.get(name).resolution and row["params"] > 0 and row["macs"] > 0
