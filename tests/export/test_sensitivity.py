"""Rung 2's sensitivity pass on a small real model: a plain INT8 export into a scratch folder
first, then the export into place with the most sensitive layers' ops named to keep."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from edgebench.export import onnx as onnx_export
from edgebench.export.options import ExportContext, ExportOptions
from edgebench.export.sensitivity import LEAST_SENSITIVE, keep_sensitive


def _small_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4)).eval()


@pytest.fixture
def context(tmp_path) -> ExportContext:
    calibration = np.random.default_rng(0).standard_normal((8, 3, 16, 16)).astype(np.float32)
    ctx = ExportContext(_small_model(), torch.from_numpy(calibration[:1]), ExportOptions(16),
                        calibration=calibration)
    base = tmp_path / "fp32.onnx"
    onnx_export.export_fp32(ctx, base)
    return replace(ctx, base=base)


def test_the_plain_export_goes_to_a_scratch_folder_and_the_kept_ops_are_its_own(context, tmp_path):
    import onnx

    out = tmp_path / "int8" / "model.onnx"
    out.parent.mkdir()
    calls = []

    def quantize(to, keep):
        calls.append((to, keep, to.parent))
        info = onnx_export.export_int8(context, to)
        if not keep:  # the plain file: what the pass reads op names from
            calls[-1] += ({node.name for node in onnx.load(str(to)).graph.node},)
        return info

    info = keep_sensitive(context, out, "onnx", quantize)
    (plain, none, scratch, names), (final, keep, _) = calls
    assert none == () and final == out and out.is_file() and info.input_name
    assert scratch.parent == out.parent and not scratch.exists()  # the scratch folder is gone
    assert plain.name == out.name and set(out.parent.iterdir()) == {out}
    assert len(keep) >= LEAST_SENSITIVE and set(keep) <= names, (keep, names)
