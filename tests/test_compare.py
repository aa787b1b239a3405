"""``edgebench compare``: the claims are data, each verdict follows from what the store holds."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from edgebench.compare import check_claims, claims
from edgebench.results import TrainResult
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


def _trained(model: str, seconds: tuple[float, ...], cpu: str = "x86 CPU") -> TrainResult:
    return TrainResult(model=model, dataset="fashion-mnist", checkpoint="c.pt", classes=("a", "b"),
                       resolution=32, started_from="random", epochs=len(seconds),
                       train_seconds=sum(seconds), test_top1=50.0, test_samples=10,
                       history=tuple({"loss": 1.0, "train_top1": 50.0, "seconds": s} for s in seconds),
                       batch=64, train_images=256, key=model, fingerprint={"cpu_model": cpu})


def test_training_claim_compares_like_with_like_runs():
    assert _trained("resnet50", (9.0, 5.0, 5.2)).seconds_per_epoch == 5.2  # the median epoch
    b0, r50 = _trained("efficientnet_b0", (2.0, 2.1)), _trained("resnet50", (5.0, 5.0))
    assert _verdicts([b0, r50])[9].verdict == "holds"
    assert "2.1 vs 5 (2.38x)" in _verdicts([b0, r50])[9].conditions
    assert _verdicts([replace(b0, history=({"seconds": 6.0},)), r50])[9].verdict == "does not hold"
    elsewhere = _trained("resnet50", (5.0,), cpu="another CPU")
    assert _verdicts([b0, elsewhere])[9].verdict.startswith("not measurable here")


@pytest.mark.slow
def test_train_store_feeds_the_training_claim(tmp_path, run_cli):
    db = tmp_path / "t.db"
    for model in ("efficientnet_b0", "resnet50"):
        code, _, err = run_cli("train", model, "--dataset", "fashion-mnist:train:128", "--epochs",
                               "2", "--batch", "32", "--test-samples", "128", "--out",
                               tmp_path / f"{model}.pt", "--store", db)
        assert code == 0, err
    with Store(db) as store:
        stored = [a.record for a in store.latest_attempts()]
    assert sorted(r.model for r in stored) == ["efficientnet_b0", "resnet50"]
    assert all(isinstance(r, TrainResult) and r.train_images == 128 and r.batch == 32 and
               r.test_samples == 128 and len(r.history) == 2 and r.fingerprint["arch"] for r in stored)
    code, out, err = run_cli("compare", "resnet50", "efficientnet_b0", "--store", db, "--json")
    assert code == 0, err
    data = json.loads(out)
    claim = {c["id"]: c for c in data["claims"]}[9]
    assert claim["measured"] == "efficientnet_b0 vs resnet50, seconds per epoch"
    assert "fashion-mnist 128 images at 32 px, batch 32" in claim["conditions"]
    assert not claim["verdict"].startswith("not measurable")
    assert all(len(m["train_s_per_epoch"]) == 1 for m in data["models"])
    code, _, err = run_cli("report", "--store", db)  # a store with only training runs still reports
    assert code == 0, err


@pytest.mark.parametrize("args", [("resnet9000", "resnet50"), ("resnet50", "effnet")])
def test_unknown_models_are_one_line(run_cli, args):
    code, _, err = run_cli("compare", *args)
    assert_one_line_error(code, err, expected_code=2)
