"""One schema version and its migration steps, tested on what edgebench at schema version 1
wrote: ``tests/fixtures/v1`` (a results store of train, export, latency and accuracy cells,
the CSV report of it, and artifact manifests)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from edgebench import schema
from edgebench.results import from_dict
from edgebench.schema import SCHEMA_VERSION, SchemaError, upgrade_manifest, upgrade_record
from edgebench.store import Store, StoreError

V1 = Path(__file__).parent / "fixtures" / "v1"
NEW_CELL_COLUMNS = ("converter", "weights", "calibration", "dataset")


def v1_store(path: Path) -> Path:
    """The version-1 store, as SQLite again (the fixture is its text dump, for readable diffs)."""
    with sqlite3.connect(path) as db:
        db.executescript((V1 / "store.sql").read_text())
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_one_step_per_version_in_order():
    assert [s.to for s in schema.STEPS] == list(range(schema.FIRST_VERSION + 1, SCHEMA_VERSION + 1))


def _v2_of(data: dict) -> dict:
    """What version 2 reads a version-1 record as: only the export cell's converter moved."""
    out = {**data, "schema_version": SCHEMA_VERSION}
    if data["kind"] == "export":
        out["converter_description"] = data["converter"]
        out["converter"] = "onnx2tf" if data["name"].endswith("-onnx2tf") else None
    return out


def test_a_version_1_store_opens_migrated_and_every_record_reads_back_equal(tmp_path):
    path = v1_store(tmp_path / "v1.db")
    stored = _rows(path, "SELECT id, record FROM attempt ORDER BY id")
    cells = _rows(path, "SELECT key, kind, model, format, precision, runtime, target FROM cell "
                        "ORDER BY key")
    runs = _rows(path, "SELECT * FROM run ORDER BY id")
    with Store(path) as store:
        attempts = store.attempts()
    assert len(attempts) == len(stored) == 22
    assert {a.record.KIND for a in attempts} == {"train", "export", "latency", "accuracy"}
    for attempt, (_, text) in zip(attempts, stored):
        expected = _v2_of(json.loads(text))
        back = attempt.record.to_dict()
        # every version-1 value as it was; the fields version 2 added are unknown (None)
        assert {k: v for k, v in back.items() if k in expected} == expected
        assert all(back[k] is None for k in set(back) - set(expected))
    # nothing lost: the same runs, cells and attempts, and the old columns unchanged
    assert _rows(path, "SELECT key, kind, model, format, precision, runtime, target FROM cell "
                       "ORDER BY key") == cells
    assert _rows(path, "SELECT * FROM run ORDER BY id") == runs
    assert _rows(path, "SELECT id, record FROM attempt ORDER BY id") == stored
    assert _rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == \
        [(str(SCHEMA_VERSION),)]


def test_the_migrated_cell_table_tells_converters_and_data_sets_apart(tmp_path):
    path = v1_store(tmp_path / "v1.db")
    Store(path).close()
    by_kind = _rows(path, "SELECT kind, converter, dataset, COUNT(*) FROM cell "
                          "GROUP BY kind, converter, dataset ORDER BY kind, converter")
    assert by_kind == [("accuracy", None, "fashion-mnist:test:32", 4),
                       ("accuracy", "onnx2tf", "fashion-mnist:test:32", 2),
                       ("export", None, None, 4), ("export", "onnx2tf", None, 2),
                       ("latency", None, None, 7), ("latency", "onnx2tf", None, 2),
                       ("train", None, "fashion-mnist", 1)]
    # two converters' TFLite INT8 latency cells, apart in SQL
    assert _rows(path, "SELECT COALESCE(converter, 'default') FROM cell WHERE kind = 'latency' "
                       "AND format = 'tflite' AND precision = 'int8' ORDER BY 1") == \
        [("default",), ("onnx2tf",)]
    # version 1 recorded no weights or calibration identity in its cells: nothing to fill in
    assert _rows(path, "SELECT COUNT(*) FROM cell WHERE weights IS NOT NULL "
                       "OR calibration IS NOT NULL") == [(0,)]


def test_a_second_open_migrates_nothing_again(tmp_path):
    path = v1_store(tmp_path / "v1.db")
    Store(path).close()
    before = _rows(path, "SELECT * FROM cell ORDER BY key")
    with Store(path) as store:
        assert len(store.attempts()) == 22
    assert _rows(path, "SELECT * FROM cell ORDER BY key") == before


def test_a_store_that_cannot_be_migrated_is_left_as_it_was(tmp_path):
    path = v1_store(tmp_path / "v1.db")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE attempt SET record = '{not json' WHERE id = 5")
    with pytest.raises(StoreError, match="cannot migrate the results store .* left as it was"):
        Store(path)
    columns = [r[1] for r in _rows(path, "PRAGMA table_info(cell)")]
    assert not set(NEW_CELL_COLUMNS) & set(columns)  # the ALTER TABLEs were rolled back
    assert _rows(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]


def test_report_on_a_version_1_store_is_what_version_1_reported(tmp_path, run_cli):
    path = v1_store(tmp_path / "v1.db")
    code, out, err = run_cli("report", "--store", path, "--csv", tmp_path / "cells.csv")
    assert code == 0, err
    assert "onnx2tf" in out
    assert (tmp_path / "cells.csv").read_text() == (V1 / "report.csv").read_text()


def test_records_and_manifests_of_a_newer_edgebench_are_refused_in_one_line():
    newer = {"schema_version": SCHEMA_VERSION + 1, "kind": "agent", "status": "ok"}
    for upgrade in (upgrade_record, upgrade_manifest):
        with pytest.raises(SchemaError, match=f"schema version {SCHEMA_VERSION + 1}, this "
                                              f"edgebench reads {SCHEMA_VERSION}: upgrade edgebench"):
            upgrade(newer)
    with pytest.raises(ValueError, match="upgrade edgebench"):
        from_dict(newer)


def test_version_1_export_cells_name_the_converter_and_its_description_apart():
    data = {"schema_version": 1, "kind": "export", "model": "m", "format": "tflite",
            "precision": "int8", "status": "ok", "reason": "", "key": "k",
            "converter": "onnx2tf 1.29.24 full integer quantisation", "name": "tflite-int8-onnx2tf"}
    cell = from_dict(data)
    assert (cell.converter, cell.converter_description) == ("onnx2tf", data["converter"])
    own = from_dict({**data, "converter": "litert-torch", "name": "tflite-int8"})
    assert (own.converter, own.converter_description) == (None, "litert-torch")
    unsupported = from_dict({**data, "converter": None, "name": None, "status": "unsupported"})
    assert (unsupported.converter, unsupported.converter_description) == (None, None)
