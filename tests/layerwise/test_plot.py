"""The SVG plot: well-formed, one point per tensor, every name escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from edgebench.layerwise import LayerDiff, TensorDiff
from edgebench.layerwise.plot import LOW_COSINE, svg

HOSTILE = '<script>alert("x")</script>&'


def _diff(names):
    rows = tuple(TensorDiff(n, "ReLU", "Relu", n, (8, 4, 4), c, p, 0.5)
                 for n, c, p in zip(names, (1.0, 0.995, 0.5), (60.0, 35.0, 8.0)))
    return LayerDiff("art", HOSTILE, "onnx", "int8", "fashion-mnist:test", 4, rows, ())


def test_plot_is_well_formed_with_a_point_per_tensor():
    root = ET.fromstring(svg(_diff(["relu", "layer1.0", "fc"])))
    ns = "{http://www.w3.org/2000/svg}"
    circles = root.findall(f"{ns}circle")
    assert len(circles) == 3
    # a low cosine is red; PSNR falls so each point sits lower than the one before
    assert [c.get("fill") == "#d62728" for c in circles] == [False, False, True] and LOW_COSINE == 0.99
    ys = [float(c.get("cy")) for c in circles]
    assert ys == sorted(ys)
    assert "fc (ReLU, Relu): cosine 0.50000, PSNR 8.0 dB" in circles[2].find(f"{ns}title").text


def test_every_name_is_escaped():
    text = svg(_diff([HOSTILE, "b", "c"]))
    assert "<script>" not in text and "&lt;script&gt;" in text
    ET.fromstring(text)  # still well-formed with the hostile names
