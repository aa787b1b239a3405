"""Fashion-MNIST's files: both splits read, and a missing file says how to get it."""

import numpy as np
import pytest

from edgebench.data.fashion_mnist import fashion_mnist
from edgebench.errors import DataUnavailableError


@pytest.mark.parametrize("split,count", [("train", 60_000), ("test", 10_000)])
def test_fashion_mnist_splits(split, count):
    images, labels = fashion_mnist(split)
    assert images.shape == (count, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [count // 10] * 10  # balanced classes


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEBENCH_FASHION_MNIST", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # offline, also on online machines
    with pytest.raises(DataUnavailableError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist("test")
