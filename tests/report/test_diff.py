"""``report --diff``: like with like, ratio buckets, a noise floor, insufficient data."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from edgebench.report.diff import compare
from edgebench.results import Status
from edgebench.store import Store

from .conftest import _lat, _latency


def _run(store: Store, cells) -> int:
    run = store.begin_run([], {}, {})
    for cell in cells:
        store.record(run, cell, time.time())
    return run


@pytest.fixture
def two_runs(tmp_path):
    base = [_latency("resnet18", p, f, "onnxruntime", ms, 10.0)
            for p, f, ms in (("fp32", "onnx", 10.0), ("int8", "onnx", 4.0), ("fp32", "tflite", 20.0),
                             ("int8", "tflite", 8.0), ("fp16", "onnx", 9.0))]
    changed = [
        replace(base[0], latency=_lat(10.5)),  # 5%: noise
        replace(base[1], latency=_lat(6.2)),  # 1.55x slower
        replace(base[2], latency=_lat(3.9)),  # 5.1x faster
        replace(base[3], status=Status.LOAD_FAILED, reason="object is not initialized", latency=None),
        _latency("efficientnet_b0", "fp32", "onnx", "onnxruntime", 7.0, 20.0),  # new
    ]  # fp16 onnx: missing
    path = tmp_path / "d.db"
    with Store(path) as store:
        a, b = _run(store, base), _run(store, changed)
    return path, a, b


def test_buckets_breakage_new_and_missing(two_runs):
    path, a, b = two_runs
    with Store(path) as store:
        diff = compare(a, [x.record for x in store.latest_attempts(a)],
                       b, [x.record for x in store.latest_attempts(b)])
    assert diff.comparable == 3
    assert [(c.label.split(" @")[0], c.bucket) for c in diff.regressions] == \
        [("resnet18 int8 onnx/onnxruntime", ">= 1.5x")]
    assert [(c.label.split(" @")[0], c.bucket) for c in diff.progressions] == \
        [("resnet18 fp32 tflite/onnxruntime", ">= 5x")]
    assert len(diff.broke) == 1 and "object is not initialized" in diff.broke[0]
    assert diff.new == ["efficientnet_b0 fp32 onnx/onnxruntime @ local"]
    assert diff.missing == ["resnet18 fp16 onnx/onnxruntime @ local"]
    assert diff.verdict == "1 slower, 1 faster, 1 broke, 0 started working"


def test_another_device_is_not_compared_and_one_cell_is_insufficient():
    a = [_latency("resnet18", "fp32", "onnx", "onnxruntime", 10.0, 1.0)]
    b = [replace(a[0], latency=_lat(30.0), fingerprint={"arch": "aarch64"})]
    diff = compare(1, a, 2, b)
    assert diff.other_device and not diff.regressions
    assert diff.verdict.startswith("insufficient data")
    same = compare(1, a * 1, 2, [replace(a[0], latency=_lat(10.2))])
    assert same.verdict.startswith("insufficient data")


def test_a_wide_spread_raises_the_noise_floor():
    a = [_latency("resnet18", "fp32", "onnx", "onnxruntime", 10.0, 1.0),
         _latency("resnet18", "int8", "onnx", "onnxruntime", 4.0, 1.0)]
    noisy = replace(a[0].latency, std_ms=3.0)  # 30% spread: a 20% change is noise
    b = [replace(a[0], latency=replace(noisy, p50_ms=12.0)), a[1]]
    diff = compare(1, a, 2, b)
    assert diff.comparable == 2 and not diff.regressions
    assert diff.verdict == "no significant changes"


def test_the_diff_command(two_runs, run_cli):
    path, a, b = two_runs
    code, out, err = run_cli("report", "--store", path, "--diff", a, b)
    assert code == 0, err
    assert "slower >= 1.5x: resnet18 int8 onnx/onnxruntime" in out and "broke:" in out
    code, out, _ = run_cli("report", "--store", path, "--diff", a, b, "--json", "-")
    assert json.loads(out)["comparable"] == 3
    code, _, err = run_cli("report", "--store", path, "--diff", a, 42)
    assert code == 2 and "run 42 is not in" in err
