"""Exit codes: the typed errors' order, and the one rule from a result's statuses to an error."""

from edgebench import errors
from edgebench.api import ExportResult
from edgebench.cli import exit_code
from edgebench.cli.exits import check
from edgebench.compat import CompatRow
from edgebench.results import ExportCell, LatencyCell, Status


def test_exit_codes_are_ordered_most_specific_first():
    from edgebench.cli import EXIT_CODES

    classes = [cls for cls, _ in EXIT_CODES]
    for i, cls in enumerate(classes):
        for later in classes[i + 1:]:
            assert not issubclass(later, cls), f"{later.__name__} is shadowed by {cls.__name__}"
    assert exit_code(errors.UnknownModelError("x")) == 2 and exit_code(errors.CheckpointError("x")) == 2
    assert exit_code(errors.ValidationDegradedError("x")) == 3
    assert exit_code(errors.EdgebenchError("x")) == 1
    assert len({code for _, code in EXIT_CODES if code != 6}) == len(EXIT_CODES) - 2


def _export(precision: str, status: Status, path: str | None = "art/x") -> ExportCell:
    return ExportCell(model="resnet18", format="onnx", precision=precision, status=status,
                      reason=f"{status} here", key=precision, path=path)


def _raised(result) -> errors.EdgebenchError | None:
    try:
        check(result)
    except errors.EdgebenchError as e:
        return e
    return None


def test_an_export_exits_on_its_worst_status():
    assert _raised(ExportResult((_export("fp32", Status.OK),))) is None
    cells = (_export("fp32", Status.DEGRADED), _export("fp16", Status.FAILED),
             _export("int8", Status.TIMEOUT, path=None))
    error = _raised(ExportResult(cells))
    assert isinstance(error, errors.CellsFailedError)
    assert str(error) == "resnet18 onnx-int8: validation did not finish (timeout): timeout here"
    error = _raised(ExportResult(cells[:2]))
    assert isinstance(error, errors.ValidationFailedError) and exit_code(error) == 4
    assert str(error) == ("resnet18 onnx-fp16: validation failed (failed): failed here "
                          "(artifact kept at art/x)")
    assert exit_code(_raised(ExportResult(cells[:1]))) == 3


def test_with_a_floor_the_ladder_judges_int8():
    from edgebench.export.rescue import AccuracyFloor, Ladder, RungResult

    floor = AccuracyFloor.parse("99%")
    cells = (_export("fp32", Status.OK), _export("int8", Status.DEGRADED))
    rungs = (RungResult(0, "int8", "nncf", "degraded", "", "art/onnx-int8", top1=80.0),
             RungResult(1, "int8-calib", "nncf", "ok", "", None, top1=85.5))
    met = Ladder("resnet18", "onnx", "99%", "d", 90.0, 89.1, rungs, "int8-calib")
    assert _raised(ExportResult(cells, (met,), floor)) is None
    assert exit_code(_raised(ExportResult(cells))) == 3  # no floor: the cell's own status
    unmet = Ladder("resnet18", "onnx", "99%", "d", 90.0, 89.1, rungs, None)
    error = _raised(ExportResult(cells, (unmet,), floor))
    assert isinstance(error, errors.ValidationFailedError)
    assert str(error) == ("resnet18 onnx: no rung of the INT8 rescue ladder met the floor (99%: "
                          "top-1 89.10%); best: int8-calib 85.50%; every rung is in "
                          "art/onnx-int8/manifest.json")


def _latency(key: str, status: Status) -> LatencyCell:
    return LatencyCell(label=f"a/{key}", model="resnet18", format="onnx", precision="fp32",
                       runtime="onnxruntime", target="local", status=status,
                       reason=f"{status} there", key=key)


def _compat(status: Status) -> CompatRow:
    return CompatRow("a/onnx-int8", "resnet18", "onnx", "int8", "onnxruntime", "rpi4", status,
                     f"{status} there")


def test_measured_rows_exit_9_when_one_failed_then_3_when_one_is_degraded():
    assert _raised([_latency("k1", Status.OK)]) is None and _raised([]) is None
    error = _raised([_latency("k1", Status.OK), _latency("k2", Status.LOAD_FAILED)])
    assert isinstance(error, errors.CellsFailedError)
    assert str(error) == "1 of 2 cells failed; first: a/k2 in onnxruntime: load_failed: load_failed there"
    error = _raised([_compat(Status.DEGRADED), _compat(Status.CRASHED)])
    assert str(error).startswith("1 of 2 rows failed; first: a/onnx-int8 in onnxruntime: crashed")
    error = _raised([_compat(Status.OK), _compat(Status.DEGRADED)])
    assert isinstance(error, errors.ValidationDegradedError)
    assert str(error) == "1 of 2 rows degraded; first: a/onnx-int8: degraded there"
