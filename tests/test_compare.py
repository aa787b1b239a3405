"""``edgebench compare``: the claims are data, each verdict follows from what the store holds."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from edgebench.compare import check_claims, claims
from edgebench.runtimes import RuntimeSettings
from edgebench.store import Store
from tests.helpers import assert_one_line_error
from tests.report.conftest import _lat, _latency


def _verdicts(records) -> dict[int, object]:
    return {v.id: v for v in check_claims(records)[1]}


def test_claims_are_data_with_a_source_and_known_rules():
    source, items = claims()
    assert "EfficientNet vs ResNet" in source
    assert {c["id"] for c in items} >= {1, 3, 5, 7, 10, 13}
    assert all(v.verdict for v in _verdicts([]).values())  # every rule answers, even with no data


def test_latency_claims_follow_the_store():
    b0 = [_latency("efficientnet_b0", p, "onnx", "onnxruntime", ms, 5.0) for p, ms in
          (("fp32", 6.6), ("int8", 2.0))]
    r50 = [_latency("resnet50", p, "onnx", "onnxruntime", ms, 98.0) for p, ms in
           (("fp32", 38.7), ("int8", 10.0))]
    faster = _verdicts(b0 + r50)[3]
    assert faster.verdict == "holds" and "5.86x" in faster.conditions
    only_int8 = _verdicts([replace(b0[0], latency=_lat(40.0)), b0[1], *r50])[3]
    assert only_int8.verdict == "holds only at INT8"
    assert _verdicts(b0)[3].verdict.startswith("not measurable here")
    edge = _verdicts(b0 + r50)[11]  # only x86 CPU rows: claim 11 is about GPUs and boards
    assert edge.verdict.startswith("not measurable here") and "edge board" in edge.verdict
    gpu = [replace(c, settings=RuntimeSettings(device="gpu")) for c in b0 + r50]
    assert _verdicts(gpu)[11].verdict == "holds"


def test_size_flops_params_and_cost_claims():
    b0 = [_latency("efficientnet_b0", "fp32", "onnx", "onnxruntime", 6.6, 20.5),
          _latency("efficientnet_b0", "int8", "onnx", "onnxruntime", 2.0, 5.4)]
    v = _verdicts(b0)
    assert v[5].verdict == "holds only at INT8" and "onnx fp32 20.5 MB" in v[5].measured
    assert v[6].verdict.startswith("not measurable here")
    assert v[7].verdict == "holds" and "multiply-adds" in v[7].conditions
    assert v[13].verdict.startswith("does not hold (3.3x")
    assert "4.02 M" in v[10].measured and v[10].verdict == "does not hold"
    assert v[1].verdict == "holds" and "not measured here" in v[1].conditions


def test_compare_command_reads_the_store(tmp_path, run_cli):
    db = tmp_path / "c.db"
    with Store(db) as store:
        run = store.begin_run([], {}, {})
        for cell in (_latency("efficientnet_b0", "fp32", "onnx", "onnxruntime", 6.6, 20.5),
                     _latency("resnet50", "fp32", "onnx", "onnxruntime", 38.7, 97.8)):
            store.record(run, cell, time.time())
    code, out, err = run_cli("compare", "resnet50", "efficientnet_b0", "--store", db, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [m["model"] for m in data["models"]] == ["resnet50", "efficientnet_b0"]
    assert data["models"][0]["sizes_mb"] == {"onnx fp32": 97.8}
    assert {c["id"]: c["verdict"] for c in data["claims"]}[3] == "holds"
    code, out, err = run_cli("compare", "resnet50", "efficientnet_b0", "--store", tmp_path / "none.db")
    assert code == 0 and "no results store" in err and "verdict:" in out


@pytest.mark.parametrize("args", [("resnet9000", "resnet50"), ("resnet50", "effnet")])
def test_unknown_models_are_one_line(run_cli, args):
    code, _, err = run_cli("compare", *args)
    assert_one_line_error(code, err, expected_code=2)
