import numpy as np
import pytest
from PIL import Image

from edgebench import zoo
from edgebench.data.datasets import CalibrationSpec, held_out
from edgebench.data.photos import NATURAL, photo_paths
from edgebench.errors import UserInputError

PP = zoo.get("resnet18").preprocess.at_resolution(64)


@pytest.mark.parametrize("text,source,count", [
    ("fashion-mnist", "fashion-mnist", 300), ("fashion-mnist:64", "fashion-mnist", 64),
    ("/data/a:b/imgs", "/data/a:b/imgs", 300), ("imgs:12", "imgs", 12)])
def test_calib_spec_parsing(text, source, count):
    spec = CalibrationSpec.parse(text)
    assert (spec.source, spec.count) == (source, count)


@pytest.mark.parametrize("text", ["fashion-mnist:0", ":5"])
def test_bad_calib_specs(text):
    with pytest.raises(UserInputError):
        CalibrationSpec.parse(text)


def test_fashion_mnist_calibration_is_preprocessed_greyscale():
    s = CalibrationSpec.parse("fashion-mnist:16").load(PP)
    assert s.x.shape == (16, 3, 64, 64) and s.x.dtype == np.float32
    assert np.allclose(s.x[:, 0] * 0.229 + 0.485, s.x[:, 1] * 0.224 + 0.456, atol=1e-5)  # grey


def test_image_folder_converts_modes_and_counts_unreadable_files(tmp_path):
    for i, mode in enumerate(("L", "RGBA", "CMYK", "P", "RGB")):
        Image.new(mode, (40, 30)).save(tmp_path / f"{i}.{'jpg' if mode == 'CMYK' else 'png'}")
    good = tmp_path / "4.png"
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:40])  # truncated
    (tmp_path / "notes.txt").write_text("not an image")
    s = CalibrationSpec(str(tmp_path), 50).load(PP)
    assert len(s) == 5 and s.skipped == 2 and len(s.digests) >= 1
    assert s.x.shape == (5, 3, 64, 64)


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(UserInputError, match="no readable images"):
        CalibrationSpec(str(tmp_path), 5).load(PP)
    with pytest.raises(UserInputError, match="does not exist"):
        CalibrationSpec(str(tmp_path / "nope"), 5).load(PP)


def test_held_out_never_holds_calibration_files(tmp_path):
    natural = [p for p in photo_paths() if p.stem in NATURAL]
    for p in natural:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    calib = CalibrationSpec(str(tmp_path), 100).load(PP)
    with_photos, _ = held_out(PP, 500)
    without, _ = held_out(PP, 500, calib.digests)
    assert len(with_photos) == len(without) == 500
    assert "fashion-mnist:test" in without.source
    assert int(with_photos.source.split()[0]) - int(without.source.split()[0]) == 2 * len(natural)
