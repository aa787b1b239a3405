"""``edgebench diff``: every format's tensors matched to the PyTorch modules on real
artifacts of a trained checkpoint; FP32 matches everywhere, INT8 shows where it loses."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from edgebench import formats
from edgebench.layerwise import DiffRequest, largest_drops, run as diff
from tests.helpers import assert_one_line_error

# a ResNet-18's blocks, activations, pools and classifier, in execution order
RESNET18 = ["relu", "maxpool", *(f"layer{i}.{j}.relu" for i in range(1, 5) for j in range(2)),
            "avgpool", "fc"]


@pytest.fixture(scope="module")
def made(fm_exports):
    """FP32 and INT8 of the checkpoint in every format (the session's export set):
    {(format, precision): folder}."""
    return {(c.format, c.precision): c.path for c in fm_exports.cells.values()}


@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_fp32_matches_pytorch_module_by_module(made, fmt):
    found = diff(DiffRequest(made[fmt, "fp32"], samples=8))
    assert [r.module for r in found.rows if r.kind in ("ReLU", "MaxPool2d", "AdaptiveAvgPool2d", "Linear")] \
        == RESNET18
    assert not found.unmatched
    for r in found.rows:
        assert r.cosine > 0.99999 and r.psnr_db > 60, r
    assert found.dataset == "fashion-mnist:test" and found.samples == 8  # the checkpoint's own split


@pytest.mark.parametrize("fmt", list(formats.FORMATS))
def test_int8_loses_precision_where_it_is_measured(made, fmt):
    fp32 = diff(DiffRequest(made[fmt, "fp32"], samples=8))
    int8 = diff(DiffRequest(made[fmt, "int8"], samples=8))
    assert [r.module for r in int8.rows] == [r.module for r in fp32.rows]  # the same tensors
    assert all(r.psnr_db < 60 for r in int8.rows)  # every layer carries quantisation noise
    assert 0.5 < int8.rows[-1].cosine < fp32.rows[-1].cosine  # degraded, not broken
    drops = largest_drops(int8.rows, 3)
    assert len(drops) == 3 and drops[0].psnr_db <= max(r.psnr_db for r in int8.rows)


def test_a_perturbed_layer_is_where_the_error_starts(made, tmp_path):
    """Scale one convolution's weights in the ONNX FP32 file: every tensor before that block
    still matches PyTorch, the block's output is the first that does not."""
    import shutil

    import onnx
    from onnx import numpy_helper

    folder = tmp_path / "onnx-fp32"
    shutil.copytree(made["onnx", "fp32"], folder)
    model = onnx.load(str(folder / "model.onnx"))
    conv = next(n for n in model.graph.node if n.name == "/layer3/layer3.0/conv1/Conv")
    init = next(i for i in model.graph.initializer if i.name == conv.input[1])
    init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(1.5), init.name))
    onnx.save(model, str(folder / "model.onnx"))
    _refresh_digest(folder)
    rows = diff(DiffRequest(str(folder), samples=4)).rows
    first_bad = next(r.module for r in rows if r.psnr_db < 60)
    assert first_bad.startswith("layer3.0"), [(r.module, round(r.psnr_db)) for r in rows]


def _refresh_digest(folder: Path) -> None:
    """The manifest's digest of the edited file (an artifact's files are verified on use)."""
    from edgebench.files import sha256_file

    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in (manifest["file"], *manifest["files"]):
        path = folder / entry["name"]
        entry.update(size_bytes=path.stat().st_size, sha256=sha256_file(path))
    manifest["size_bytes"] = sum(e["size_bytes"] for e in manifest["files"])
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_cli_prints_json_and_writes_the_plot(made, run_cli, tmp_path):
    plot = tmp_path / "r18.svg"
    code, out, err = run_cli("diff", made["tflite", "int8"], "--samples", 4, "--svg", plot, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["format"] == "tflite" and data["precision"] == "int8" and data["samples"] == 4
    assert [r["module"] for r in data["rows"]][-1] == "fc"
    assert set(data["largest_drops"]) <= {r["module"] for r in data["rows"]}
    root = ET.fromstring(plot.read_text())
    assert len(root.findall("{http://www.w3.org/2000/svg}circle")) == len(data["rows"])
    code, out, _ = run_cli("diff", made["openvino", "int8"], "--samples", 2)
    assert code == 0 and "largest PSNR drop" in out and "layer4.1.relu" in out


@pytest.mark.parametrize("args, needle", [
    (["/nonexistent/artifact"], "does not exist"),
    (["{fp32}/model.onnx"], "not an artifact folder made by edgebench export"),
    (["{fp32}", "--samples", "0"], "--samples must be"),
    (["{fp32}", "--dataset", "nosuchset:test"], "nosuchset"),
])
def test_bad_input_is_one_line(made, run_cli, args, needle):
    args = [a.format(fp32=made["onnx", "fp32"]) for a in args]
    code, _, err = run_cli("diff", *args)
    assert_one_line_error(code, err, needle, expected_code=2)


def test_a_file_its_runtime_cannot_run_is_one_line(made, run_cli, tmp_path):
    """A model file that matches its manifest but is no model: exit 4, no traceback."""
    import shutil

    folder = tmp_path / "onnx-fp32"
    shutil.copytree(made["onnx", "fp32"], folder)
    (folder / "model.onnx").write_bytes(b"not a model")
    _refresh_digest(folder)
    code, _, err = run_cli("diff", folder)
    assert_one_line_error(code, err, "could not run every tensor", expected_code=4)
