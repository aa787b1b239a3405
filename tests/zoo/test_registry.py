import pytest

from edgebench import zoo
from edgebench.errors import UnknownModelError


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
