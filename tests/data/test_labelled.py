"""The labelled data registry: specs, every data set kind, and what bad data does."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgebench import zoo
from edgebench.data.datasets import CalibrationSpec
from edgebench.data.fashion_mnist import FASHION_MNIST_CLASSES, fashion_mnist
from edgebench.data.labelled import (CIFAR10_CLASSES, DATASETS, DatasetSpec, preprocess_split)
from edgebench.errors import DataUnavailableError, UserInputError
from edgebench.zoo.spec import Preprocess

PP = Preprocess(32, 32, "bilinear", (0.286,) * 3, (0.353,) * 3)


@pytest.mark.parametrize("text,name,path,split,count", [
    ("fashion-mnist", "fashion-mnist", None, None, None),
    ("fashion-mnist:test", "fashion-mnist", None, "test", None),
    ("fashion-mnist:train:300", "fashion-mnist", None, "train", 300),
    ("fashion-mnist:64", "fashion-mnist", None, None, 64),
    ("cifar10", "cifar10", None, None, None),
    ("cifar10:/data/cifar-10-batches-py:test:5", "cifar10", "/data/cifar-10-batches-py", "test", 5),
    ("imagefolder:/data/a:b/flowers", "imagefolder", "/data/a:b/flowers", None, None),
    ("imagefolder:/data/flowers:val:10", "imagefolder", "/data/flowers", "val", 10),
    ("imagenet-val:/data/val:1000", "imagenet-val", "/data/val", None, 1000),
])
def test_spec_parsing(text, name, path, split, count):
    spec = DatasetSpec.parse(text)
    assert (spec.name, str(spec.path) if spec.path else None, spec.split, spec.count) == (
        name, path, split, count)


@pytest.mark.parametrize("text,needle", [
    ("mnist:test", "unknown data set 'mnist'"),
    ("fashion-mnist:/data/fm", "takes no path"),
    ("imagefolder", "needs a folder"),
    ("imagenet-val:val", "needs a folder"),
    ("fashion-mnist:test:0", "must be a whole number from 1"),
])
def test_bad_specs_name_the_fix(text, needle):
    with pytest.raises(UserInputError, match=needle):
        DatasetSpec.parse(text)


@pytest.mark.parametrize("split,count", [("train", 60_000), ("test", 10_000)])
def test_fashion_mnist_split_carries_labels_and_classes(split, count):
    data = DatasetSpec.parse(f"fashion-mnist:{split}").open()
    images, labels = fashion_mnist(split)
    assert len(data) == count and data.classes == FASHION_MNIST_CLASSES
    assert np.array_equal(data.labels, labels)
    assert np.array_equal(np.asarray(data.image(7)), images[7])


def test_first_n_is_deterministic_and_changes_the_identity():
    a = DatasetSpec.parse("fashion-mnist:test:100").open()
    b = DatasetSpec.parse("fashion-mnist:test:100").open()
    whole = DatasetSpec.parse("fashion-mnist:test").open()
    assert np.array_equal(a.labels, whole.labels[:100]) and a.identity == b.identity != whole.identity


def test_preprocess_replicates_grey_and_resizes_with_a_note():
    t = preprocess_split(DatasetSpec.parse("fashion-mnist:test:20").open(), PP)
    assert t.x.shape == (20, 3, 32, 32) and t.x.dtype == np.float32
    assert np.array_equal(t.x[:, 0], t.x[:, 1]) and np.array_equal(t.x[:, 1], t.x[:, 2])
    assert "28x28: resized to 32 px (bilinear" in t.note


def test_nhwc_and_integer_inputs_match_the_float_nchw_tensor():
    split = DatasetSpec.parse("fashion-mnist:test:8").open()
    nchw = preprocess_split(split, PP).x
    nhwc = preprocess_split(split, PP, "NHWC").x
    q = preprocess_split(split, PP, "NCHW", (0.02, -10, "int8")).x
    assert np.array_equal(nhwc, nchw.transpose(0, 2, 3, 1))
    assert q.dtype == np.int8
    assert np.abs((q.astype(np.float32) + 10) * 0.02 - np.clip(nchw, -2.36, 2.7)).max() <= 0.0101


def _save_fm(folder: Path, images, names) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (image, name) in enumerate(zip(images, names)):
        Image.fromarray(image, mode="L").save(folder / f"{name}-{i}.png")


@pytest.fixture
def imagefolder(tmp_path):
    """Three classes of real Fashion-MNIST images, 4 each, as PNG files."""
    images, labels = fashion_mnist("test")
    root = tmp_path / "clothes"
    for c in (0, 1, 7):
        chosen = images[labels == c][:4]
        _save_fm(root / FASHION_MNIST_CLASSES[c].replace("/", "-"), chosen, ["img"] * 4)
    return root


def test_imagefolder_reads_classes_from_sub_folders(imagefolder):
    data = DatasetSpec.parse(f"imagefolder:{imagefolder}").open()
    assert data.classes == ("Sneaker", "T-shirt-top", "Trouser")
    assert data.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert data.split == "all"


def test_corrupt_and_empty_images_are_skipped_and_counted(imagefolder):
    (imagefolder / "Trouser" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (imagefolder / "Trouser" / "empty.jpg").write_bytes(b"")
    data = DatasetSpec.parse(f"imagefolder:{imagefolder}").open()
    t = preprocess_split(data, PP)
    assert len(data) == 14 and t.skipped == 2 and len(t.x) == len(t.labels) == 12
    assert t.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4  # labels follow the kept images


def test_imagefolder_splits_are_its_sub_folders(imagefolder, tmp_path):
    root = tmp_path / "split"
    for split in ("train", "test"):
        for cls in imagefolder.iterdir():
            (root / split / cls.name).mkdir(parents=True)
            for f in cls.iterdir():
                (root / split / cls.name / f.name).write_bytes(f.read_bytes())
    assert DatasetSpec.parse(f"imagefolder:{root}").open("train").split == "train"
    assert DatasetSpec.parse(f"imagefolder:{root}").open("eval").split == "test"
    with pytest.raises(UserInputError, match="has no val split"):
        DatasetSpec.parse(f"imagefolder:{root}:val").open()


@pytest.mark.parametrize("damage,needle", [
    (lambda root: root.rename(root.parent / "gone"), "does not exist"),
    (lambda root: [f.unlink() for f in (root / "Trouser").iterdir()], "Trouser hold no images"),
])
def test_bad_imagefolders_are_one_line(imagefolder, damage, needle):
    damage(imagefolder)
    with pytest.raises(UserInputError, match=needle):
        DatasetSpec.parse(f"imagefolder:{imagefolder}").open()


def test_imagenet_val_flat_folder_with_labels_file(imagefolder, tmp_path):
    flat = tmp_path / "val"
    flat.mkdir()
    files = sorted(imagefolder.rglob("*.png"))
    lines = []
    for i, f in enumerate(files):
        (flat / f"ILSVRC2012_val_{i:08d}.png").write_bytes(f.read_bytes())
        lines.append(f"ILSVRC2012_val_{i:08d}.png {i * 7}")
    (flat / "labels.txt").write_text("\n".join(lines))
    data = DatasetSpec.parse(f"imagenet-val:{flat}").open()
    assert len(data) == len(files) and len(data.classes) == 1000
    assert data.labels.tolist() == [i * 7 for i in range(len(files))]
    (flat / "labels.txt").write_text("\n".join(lines[:-1]))  # one image unlabelled
    with pytest.raises(UserInputError, match="does not match the images"):
        DatasetSpec.parse(f"imagenet-val:{flat}").open()
    (flat / "labels.txt").write_text("\n".join([*lines, "missing.png 3"]))
    with pytest.raises(UserInputError, match="missing.png, which is not an image"):
        DatasetSpec.parse(f"imagenet-val:{flat}").open()


def test_imagenet_val_synset_folders_need_the_full_index(imagefolder, tmp_path):
    root = tmp_path / "val"
    for n, cls in enumerate(sorted(imagefolder.iterdir())):
        (root / f"n0000000{n}").mkdir(parents=True)
        for f in cls.iterdir():
            (root / f"n0000000{n}" / f.name).write_bytes(f.read_bytes())
    with pytest.raises(UserInputError, match="needs all 1000 synsets"):
        DatasetSpec.parse(f"imagenet-val:{root}").open()
    order = [f"n{i:08d}" for i in range(1000)]
    order[0], order[500] = order[500], order[0]
    (root / "synsets.txt").write_text("\n".join(order))
    data = DatasetSpec.parse(f"imagenet-val:{root}").open()
    assert sorted(set(data.labels.tolist())) == [1, 2, 500]


def _cifar_folder(root: Path, n: int = 20) -> Path:
    """A folder in CIFAR-10's python-pickle layout, holding real (Fashion-MNIST) pixels."""
    images, labels = fashion_mnist("test")
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rgb = np.repeat(np.pad(images[:n], ((0, 0), (2, 2), (2, 2)))[:, None], 3, axis=1)
    for name in ("test_batch", *(f"data_batch_{i}" for i in range(1, 6))):
        batch = {b"data": rgb.reshape(n, -1), b"labels": labels[:n].tolist(), b"batch_label": b"x"}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    return folder


def test_cifar10_reads_the_python_batches(tmp_path):
    folder = _cifar_folder(tmp_path)
    data = DatasetSpec.parse(f"cifar10:{tmp_path}:test").open()
    images, labels = fashion_mnist("test")
    assert data.classes == CIFAR10_CLASSES and len(data) == 20
    assert data.labels.tolist() == labels[:20].tolist()
    pixels = np.asarray(data.image(3))
    assert pixels.shape == (32, 32, 3) and np.array_equal(pixels[2:30, 2:30, 0], images[3])
    assert len(DatasetSpec.parse(f"cifar10:{folder}:train").open()) == 100


def test_cifar10_refuses_a_pickle_that_runs_code(tmp_path):
    folder = _cifar_folder(tmp_path)

    class Evil:
        def __reduce__(self):
            return (eval, ("1",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(DataUnavailableError, match="refusing __builtin__.eval"):
        DatasetSpec.parse(f"cifar10:{folder}:test").open()


def test_cifar10_offline_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("EDGEBENCH_CIFAR10", raising=False)
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # offline, also on online machines
    with pytest.raises(DataUnavailableError, match="put the cifar-10-batches-py folder"):
        DatasetSpec.parse("cifar10:test").open()


@pytest.mark.parametrize("name", DATASETS)
def test_every_registered_data_set_is_described(name):
    kind = DATASETS[name]
    assert kind.description and kind.eval_split and kind.train_split


def test_calibration_takes_any_data_set_spec(imagefolder):
    spec = CalibrationSpec.parse(f"imagefolder:{imagefolder}:5")
    samples = spec.load(zoo.get("resnet18").preprocess.at_resolution(32))
    assert spec.count == 5 and len(samples) == 5 and "imagefolder:all" in samples.source
