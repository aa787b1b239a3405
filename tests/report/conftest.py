"""A real results store with known cells: what the report tests read."""

from __future__ import annotations

import time

import pytest

from edgebench.harness import LatencyStats
from edgebench.results import AccuracyCell, LatencyCell, Status
from edgebench.store import Store


def _lat(ms: float) -> LatencyStats:
    return LatencyStats(runs=30, measured_s=1.0, p50_ms=ms, p90_ms=ms * 1.1, p99_ms=ms * 1.3,
                        mean_ms=ms, std_ms=0.1, min_ms=ms * 0.9, max_ms=ms * 1.5,
                        stopped_by="min_runs_and_min_seconds")


def _latency(model, precision, fmt, runtime, ms, size_mb, target="local", status=Status.OK,
             emulated=False, reason="", converter=None):
    return LatencyCell(label=f"a/{model}/{fmt}-{precision}", model=model, format=fmt,
                       precision=precision, runtime=runtime, target=target, status=status,
                       reason=reason, key=f"{target}-{model}-{fmt}-{precision}-{runtime}-{converter}",
                       converter=converter,
                       latency=_lat(ms) if ms else None, size_bytes=int(size_mb * 1e6),
                       throughput_ips=1e3 / ms if ms else None,
                       fingerprint={"arch": "x", "emulated": True} if emulated else {"arch": "x"})


def _accuracy(model, precision, fmt, runtime, top1, drop, target="local"):
    return AccuracyCell(label=f"a/{model}/{fmt}-{precision}", model=model, format=fmt,
                        precision=precision, runtime=runtime, target=target, status=Status.OK,
                        reason="", key=f"acc-{target}-{model}-{fmt}-{precision}-{runtime}",
                        dataset="fashion-mnist:test", top1=top1, drop_points=drop)


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "r.db"
    with Store(path) as s:
        run = s.begin_run([], {}, {})
        for record in (
            _latency("resnet18", "fp32", "onnx", "onnxruntime", 10.0, 46.0),
            _latency("resnet18", "int8", "onnx", "onnxruntime", 4.0, 12.0),
            _latency("efficientnet_b0", "int8", "onnx", "onnxruntime", 2.0, 6.0),
            _latency("resnet18", "fp32", "onnx", "tflite", None, 46.0, status=Status.UNSUPPORTED,
                     reason="tflite does not load onnx"),
            _latency("resnet18", "int8", "openvino", "openvino", None, 12.0, target="pi<script>",
                     status=Status.LOAD_FAILED, reason="object is not initialized | x"),
            _latency("resnet18", "fp32", "onnx", "onnxruntime", 900.0, 46.0, target="pi<script>",
                     emulated=True),
            _accuracy("resnet18", "fp32", "onnx", "onnxruntime", 91.3, 0.0),
            _accuracy("resnet18", "int8", "onnx", "onnxruntime", 91.1, 0.2),
            _accuracy("efficientnet_b0", "int8", "onnx", "onnxruntime", 80.0, 8.0),
        ):
            s.record(run, record, time.time())
    return path


