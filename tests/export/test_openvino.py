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
    import openvino

    real_save = openvino.save_model

    def save_model(model, path, compress_to_fp16=True):
        if compress_to_fp16:  # the step under test fails as a full or read-only disk would
            raise RuntimeError("Can't open file for writing")
        return real_save(model, path, compress_to_fp16=compress_to_fp16)

    monkeypatch.setattr(openvino, "save_model", save_model)
    cells = {c.precision: c for c in run(ExportRequest(
        model="resnet18", weights="random", resolution=32, formats=("openvino",),
        precisions=("fp16",), validate_samples=8, out_dir=tmp_path))}
    assert cells["fp16"].status == "export_failed"
    assert cells["fp16"].reason == ("openvino.save_model (compress_to_fp16=True) failed: "
                                    "Can't open file for writing")
    assert cells["fp32"].status == "ok" and (tmp_path / "resnet18" / "openvino-fp32").is_dir()
    assert not (tmp_path / "resnet18" / "openvino-fp16").exists()


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


def test_nncf_is_given_the_preset_the_manifest_records():
    import nncf

    assert ov_export.PRESET in {p.value for p in nncf.QuantizationPreset}
