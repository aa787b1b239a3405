"""The photos shipped with scikit-image: each and its mirror image, preprocessed, with
calibration files left out by content."""

import numpy as np
import pytest

from edgebench.data.photos import NATURAL, PHOTOS, data_dir, photo_batch, photo_paths
from edgebench.files import sha256_file
from edgebench.zoo.spec import Preprocess

PREPROCESS = Preprocess(32, 36)


def test_the_natural_photos_are_shipped_in_the_listed_order():
    paths = photo_paths()
    assert [p.name for p in paths] == [n for n in PHOTOS if (data_dir() / n).is_file()]
    assert set(NATURAL) <= {p.stem for p in paths}  # "a real photo" means these


def test_each_photo_comes_with_its_mirror_image():
    names, batch = photo_batch(PREPROCESS)
    stems = [p.stem for p in photo_paths()]
    assert names == [n for s in stems for n in (s, f"{s}/mirror")]
    assert batch.shape == (2 * len(stems), 3, 32, 32) and batch.dtype == np.float32
    assert np.isfinite(batch).all()
    # a mirror image is not the photo: the pairs differ (every photo here is asymmetric)
    assert all(not np.array_equal(batch[i], batch[i + 1]) for i in range(0, len(batch), 2))
    # mirrored back, it is the photo (the crop is centred; one column of rounding aside)
    np.testing.assert_allclose(batch[1][..., ::-1][..., 1:-1], batch[0][..., 1:-1], atol=0.2)


def test_count_and_calibration_files_leave_photos_out():
    first = photo_paths()[0]
    names, batch = photo_batch(PREPROCESS, count=3, exclude=frozenset({sha256_file(first)}))
    assert len(names) == len(batch) == 3 and first.stem not in {n.split("/")[0] for n in names}


def test_none_left_is_an_empty_batch_of_the_right_shape():
    every = frozenset(sha256_file(p) for p in photo_paths())
    names, batch = photo_batch(PREPROCESS, exclude=every)
    assert names == [] and batch.shape == (0, 3, 32, 32) and batch.dtype == np.float32


@pytest.mark.parametrize("count", [0, 1])
def test_a_count_is_the_first_images(count):
    names, batch = photo_batch(PREPROCESS, count=count)
    assert names == [photo_paths()[0].stem][:count] and len(batch) == count
