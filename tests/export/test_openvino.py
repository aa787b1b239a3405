"""The OpenVINO exporter: every step that can fail is an export failure of its own cell, never
a traceback that loses the export's other artifacts; NNCF gets the preset the manifest records."""

from __future__ import annotations

import numpy as np
import pytest

from edgebench.errors import ExportError
from edgebench.export import ExportRequest, run
from edgebench.export import openvino as ov_export
from edgebench.export.options import ExportContext, ExportOptions


def test_an_fp16_ir_that_cannot_be_saved_fails_that_cell_only(tmp_path, monkeypatch):
    real_export = ov_export.export_fp16
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # a file where the IR's folder should be: no user can write there

    def export_fp16(ctx, path):  # the real exporter and the real save_model, aimed at it
        return real_export(ctx, blocked / path.name)

    monkeypatch.setattr(ov_export, "export_fp16", export_fp16)
    cells = {c.precision: c for c in run(ExportRequest(
        model="resnet18", weights="random", resolution=32, formats=("openvino",),
        precisions=("fp16",), validate_samples=8, out_dir=tmp_path / "out"))}
    assert cells["fp16"].status == "export_failed"
    assert cells["fp16"].reason.startswith("openvino.save_model (compress_to_fp16=True) failed: ")
    assert "\n" not in cells["fp16"].reason
    assert cells["fp32"].status == "ok" and (tmp_path / "out" / "resnet18" / "openvino-fp32").is_dir()
    assert not (tmp_path / "out" / "resnet18" / "openvino-fp16").exists()


@pytest.mark.parametrize("exporter", [ov_export.export_fp16, ov_export.export_bf16,
                                      ov_export.export_int8])
def test_a_broken_fp32_base_is_an_export_error(tmp_path, exporter):
    base = tmp_path / "model.xml"
    base.write_text("<net>not an IR")  # real OpenVINO reading a real (broken) file
    ctx = ExportContext(model=None, sample=None, options=ExportOptions(resolution=32), base=base,
                        calibration=np.zeros((2, 3, 32, 32), "float32"))
    with pytest.raises(ExportError) as caught:
        exporter(ctx, tmp_path / "out.xml")
    assert "\n" not in str(caught.value)
    assert "model.xml" in str(caught.value) or "missing" in str(caught.value)


def test_nncf_is_given_the_preset_the_manifest_records(tmp_path):
    """The recorded preset is the one that ran: "performance" makes activations symmetric, so
    the input's quantiser spans -max..max although the calibration data spans -1..3 ("mixed"
    would fit it asymmetrically, -1..3)."""
    import openvino
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 6 * 6, 2)).eval()
    sample = torch.zeros(1, 3, 8, 8)
    options = ExportOptions(resolution=8)
    ov_export.export_fp32(ExportContext(model, sample, options), tmp_path / "base.xml")
    calibration = np.random.default_rng(0).uniform(-1, 3, (8, 3, 8, 8)).astype("float32")
    info = ov_export.export_int8(ExportContext(model, sample, options, base=tmp_path / "base.xml",
                                               calibration=calibration), tmp_path / "int8.xml")
    assert info.quantization.preset == ov_export.PRESET == "performance"
    ir = openvino.Core().read_model(str(tmp_path / "int8.xml"))
    (low, high), = [(float(op.input_value(1).get_node().get_data().min()),
                     float(op.input_value(2).get_node().get_data().max()))
                    for op in ir.get_ops() if op.get_type_name() == "FakeQuantize"
                    and op.get_friendly_name().startswith("input")]
    assert high > 2.5 and low == pytest.approx(-high * 128 / 127, rel=0.02)
