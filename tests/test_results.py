"""The typed results: one vocabulary, strict JSON, round trips, a stable cell key."""

import json

import pytest

from edgebench import formats
from edgebench.harness import HarnessSettings, LatencyStats
from edgebench.results import (RECORDS, SCHEMA_VERSION, AccuracyCell, AgentReply, CellKey,
                               ExportCell, LatencyCell, Stage, Status, TrainResult, Validation,
                               from_dict, to_json)
from edgebench.runtimes import RuntimeSettings

STATS = LatencyStats(runs=30, measured_s=2.0, p50_ms=1.5, p90_ms=2.0, p99_ms=2.5, mean_ms=1.6,
                     std_ms=0.2, min_ms=1.1, max_ms=3.0, stopped_by="min_runs_and_min_seconds")
VALIDATION = Validation(Status.FAILED, "outputs contain NaN or Inf", 16, None, None, float("nan"),
                        None, 0.0, formats.PRECISIONS["int8"].tolerance, "16 real photos")
EXAMPLES = {
    "export": ExportCell(model="resnet18", format="onnx", precision="int8", status=Status.FAILED,
                         reason="outputs contain NaN or Inf", key="k", converter=None,
                         stage=Stage.VALIDATE, tools={"onnx": "1.23"}, path="/a/b",
                         size_bytes=10, export_seconds=1.5, validation=VALIDATION,
                         validated_by="onnxruntime", name="onnx-int8",
                         converter_description="onnxruntime quantize_static (QDQ, per-channel)",
                         weights="random:seed=0", calibration="fashion-mnist:300"),
    "latency": LatencyCell(label="a/onnx-fp32", model="resnet18", format="onnx", precision="fp32",
                           runtime="onnxruntime", target="local", status=Status.OK, reason="",
                           key="k", settings=RuntimeSettings(threads=2), harness=HarnessSettings(),
                           latency=STATS, input_shape=(1, 3, 64, 64), output_shape=(1, 1000),
                           throughput_ips=float("inf"), converter="onnx2tf",
                           weights="sha256:ab", calibration=None),
    "agent": AgentReply(Status.CRASHED, "the agent died from SIGKILL", Stage.RUN, signal="SIGKILL"),
    "accuracy": AccuracyCell(label="a/tflite-int8", model="resnet18", format="tflite",
                             precision="int8", runtime="tflite", target="local",
                             status=Status.DEGRADED, reason="top-1 80.00% is 8.00 points below",
                             key="k", dataset="fashion-mnist:test", stage=Stage.VALIDATE,
                             samples=10_000, skipped=2, top1=80.0, top5=99.0,
                             per_class={"T-shirt/top": 81.5}, reference_top1=88.0, drop_points=8.0,
                             top1_agreement=0.9, max_drop_points=1.0, images_per_s=float("nan")),
    "train": TrainResult(model="resnet18", dataset="fashion-mnist", checkpoint="r.pt",
                         classes=("a", "b"), resolution=32, started_from="random", epochs=1,
                         train_seconds=5.0, test_top1=50.0, test_samples=10,
                         history=({"loss": 1.2, "train_top1": 50.0, "seconds": 5.0},)),
}


def test_every_record_kind_has_an_example():
    assert set(EXAMPLES) == set(RECORDS)


@pytest.mark.parametrize("kind", RECORDS)
def test_round_trip_through_strict_json(kind):
    record = EXAMPLES[kind]
    text = to_json(record.to_dict())
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert data["schema_version"] == SCHEMA_VERSION and data["kind"] == kind
    back = from_dict(data)
    assert type(back) is type(record)
    assert getattr(back, "status", None) is getattr(record, "status", None)
    assert back.to_dict() == data  # the same dict again: nothing lost or reshaped


def test_non_finite_numbers_become_null():
    data = EXAMPLES["latency"].to_dict()
    assert data["throughput_ips"] is None and data["latency"]["p50_ms"] == 1.5
    v = EXAMPLES["export"].to_dict()["validation"]
    assert v["min_cosine"] is None and v["tolerance"]["max_rel_diff"] is None
    assert isinstance(from_dict(EXAMPLES["export"].to_dict()).validation.tolerance,
                      formats.Tolerance)


def test_from_dict_refuses_other_schemas_and_unknown_fields():
    data = EXAMPLES["agent"].to_dict()
    with pytest.raises(ValueError, match="schema version 99, this edgebench reads "
                                         f"{SCHEMA_VERSION}: upgrade edgebench"):
        AgentReply.from_dict({**data, "schema_version": 99})
    for bad in (0, "2", None, True):
        with pytest.raises(ValueError, match="is not one edgebench writes"):
            AgentReply.from_dict({**data, "schema_version": bad})
    with pytest.raises(ValueError, match="unknown fields bogus"):
        AgentReply.from_dict({**data, "bogus": 1})
    with pytest.raises(ValueError, match="unknown record kind"):
        from_dict({**data, "kind": "nope"})


def test_status_vocabulary():
    assert {s.value for s in Status} >= {"ok", "degraded", "slower_than_fp32", "unsupported",
                                         "export_failed", "load_failed", "crashed", "timeout",
                                         "unreachable", "infra_error", "interrupted"}
    transient = {s for s in Status if not s.is_verdict}
    assert transient == {Status.CRASHED, Status.TIMEOUT, Status.UNREACHABLE, Status.INFRA_ERROR,
                         Status.INTERRUPTED}
    assert not Status.OK.is_failure and not Status.UNSUPPORTED.is_failure
    assert Status.LOAD_FAILED.is_failure and Status.INFRA_ERROR.is_failure
    assert Status("ok") == "ok" and str(Status.TIMEOUT) == "timeout"


def test_cell_key_is_stable_and_sensitive_to_every_part():
    key = CellKey(model="resnet18", weights="random:seed=0", format="onnx", precision="fp32",
                  runtime="onnxruntime", settings={"threads": 2, "batch": 1}, tools={"onnx": "1"})
    same = CellKey(model="resnet18", weights="random:seed=0", format="onnx", precision="fp32",
                   runtime="onnxruntime", settings={"batch": 1, "threads": 2}, tools={"onnx": "1"})
    assert key.digest == same.digest and len(key.digest) == 20
    changes = {"model": "resnet34", "weights": "sha256:ab", "format": "tflite", "precision": "int8",
               "converter_description": "x", "calibration": "fashion-mnist:300", "runtime": "openvino",
               "settings": {"threads": 1, "batch": 1}, "target": "pi5", "tools": {"onnx": "2"}}
    digests = {key.digest}
    for field, value in changes.items():
        digests.add(CellKey(**{**key.__dict__, field: value}).digest)
    assert len(digests) == len(changes) + 1


def test_cell_keys_are_those_version_1_computed():
    """Digests pinned from edgebench at schema version 1: a store's keys stay valid, so a
    sweep on a migrated store measures nothing twice."""
    key = CellKey(model="resnet18", weights="random:seed=0", format="onnx", precision="fp32",
                  converter_description="torch.onnx (dynamo=False)", runtime="onnxruntime",
                  settings={"threads": 2, "batch": 1}, tools={"onnx": "1"})
    assert key.digest == "72745b7a20d8698b1496"
    assert CellKey(model="resnet18", weights="random:seed=0", format="onnx",
                   precision="fp32").digest == "c0a66ac09cdc20d53330"
