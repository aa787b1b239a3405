"""The SQLite results store: records in and out whole, resume rules, crash safety, bad files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from edgebench.results import LatencyCell, Status
from edgebench.store import MAX_ATTEMPTS, SCHEMA_VERSION, Store, StoreError
from edgebench.errors import DependencyMissingError, UserInputError


def _cell(key: str, status: Status = Status.OK, **extra) -> LatencyCell:
    return LatencyCell(label=f"artifacts/{key}", model="resnet18", format="onnx", precision="fp32",
                       runtime="onnxruntime", target="local", status=status,
                       reason="" if status == Status.OK else f"{status} happened", key=key,
                       fingerprint={"arch": "x86_64", "versions": {"onnxruntime": "1.32.0"}},
                       **extra)


def test_a_record_comes_back_whole(tmp_path):
    with Store(tmp_path / "r.db") as store:
        run = store.begin_run(["edgebench", "sweep", "s.toml"], {"models": ["resnet18"]}, {"arch": "x"})
        cell = _cell("k1", load_ms=12.5, peak_rss_mb=100.0)
        assert store.record(run, cell, time.time()) == 1
        store.finish_run(run)
    with Store(tmp_path / "r.db") as store:  # reopened: nothing kept in memory only
        (attempt,) = store.attempts(run)
        assert attempt.record == cell and attempt.n == 1 and attempt.status == Status.OK
        assert store.runs()[0]["argv"] == ["edgebench", "sweep", "s.toml"]
        assert store.runs()[0]["finished_at"] is not None
        mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


@pytest.mark.parametrize("status", list(Status))
def test_resume_skips_verdicts_and_retries_transient_failures(tmp_path, status):
    with Store(tmp_path / "r.db") as store:
        run = store.begin_run([], {}, {})
        assert not store.is_done("k")
        store.record(run, _cell("k", status), time.time())
        assert store.is_done("k") == status.is_verdict
        if not status.is_verdict:  # tried again, at most MAX_ATTEMPTS times in all
            for n in range(2, MAX_ATTEMPTS + 1):
                assert store.record(run, _cell("k", status), time.time()) == n
            assert store.is_done("k")
        assert [a.n for a in store.latest_attempts()] == [store.latest("k").n]


def test_a_retry_that_succeeds_is_the_latest(tmp_path):
    with Store(tmp_path / "r.db") as store:
        first = store.begin_run([], {}, {})
        store.record(first, _cell("k", Status.INFRA_ERROR), time.time())
        second = store.begin_run([], {}, {})
        store.record(second, _cell("k"), time.time())
        assert store.latest("k").status == Status.OK and store.latest("k").run_id == second
        assert [a.status for a in store.attempts()] == [Status.INFRA_ERROR, Status.OK]


WRITER = textwrap.dedent("""
    import sys, time
    from edgebench.results import LatencyCell, Status
    from edgebench.store import Store
    store = Store(sys.argv[1])
    with store.exclusive():
        run = store.begin_run([], {}, {})
        n = 0
        while True:
            n += 1
            store.record(run, LatencyCell(label="a", model="m", format="onnx", precision="fp32",
                         runtime="onnxruntime", target="local", status=Status.OK, reason="",
                         key=f"k{n}", settings_used={"pad": "x" * 2000}), time.time())
            print(n, flush=True)
""")


def test_sigkill_mid_write_loses_nothing_committed(tmp_path):
    path = tmp_path / "r.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    committed = 0
    while committed < 200:
        committed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(path) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        attempts = store.attempts()
        keys = [a.cell_key for a in attempts]
        assert len(keys) == len(set(keys)) >= committed  # every printed cell, none twice
        assert keys == [f"k{n}" for n in range(1, len(keys) + 1)]
        with store.exclusive():  # the dead writer's lock went with it
            pass


def test_a_second_sweep_on_a_store_is_refused(tmp_path):
    path = tmp_path / "r.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        proc.stdout.readline()
        with Store(path) as store:
            with pytest.raises(StoreError, match=f"locked by another sweep \\(pid {proc.pid}"):
                with store.exclusive():
                    pass
    finally:
        proc.kill()
        proc.wait()


OPENER = textwrap.dedent("""
    import sys, time
    from edgebench.store import Store
    start = float(sys.argv[2])
    while time.time() < start:
        pass
    with Store(sys.argv[1]) as store:
        print(len(store.attempts()))
""")


def test_processes_opening_one_new_store_at_once_all_open_it(tmp_path):
    """A sweep and a report (or two sweeps' readers) may create the same new file together:
    one creates the schema, the others find it (a race that once failed on meta's key)."""
    path = tmp_path / "new.db"
    start = time.time() + 2.0  # after every interpreter has imported edgebench
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, str(path), str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [(rc, out.strip()) for rc, out, _ in results] == [(0, "0")] * 6, results
    with Store(path) as store:
        versions = store._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    assert versions == [(str(SCHEMA_VERSION),)]


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello")
    with pytest.raises(StoreError, match="not an SQLite file"):
        Store(path)
    assert path.read_text() == "hello"  # untouched


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(StoreError, match="something else \\(tables songs\\)"):
        Store(path)


def test_a_store_from_a_newer_edgebench_is_refused(tmp_path):
    path = tmp_path / "r.db"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=f"schema {SCHEMA_VERSION + 1}, this one reads {SCHEMA_VERSION}"):
        Store(path)


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(UserInputError, match="is a folder"):
        Store(tmp_path)


def test_a_record_without_a_key_is_refused(tmp_path):
    with Store(tmp_path / "r.db") as store:
        run = store.begin_run([], {}, {})
        with pytest.raises(ValueError, match="without a cell key"):
            store.record(run, _cell(""), time.time())
        assert store.attempts() == []
        assert os.path.exists(tmp_path / "r.db")


def test_cells_are_the_latest_record_of_each_cell_and_a_frame_needs_pandas(tmp_path):
    with Store(tmp_path / "r.db") as store:
        first = store.begin_run(["edgebench"], {}, {})
        store.record(first, _cell("k1", Status.TIMEOUT), time.time())
        store.record(first, _cell("k2", load_ms=3.0), time.time())
        second = store.begin_run(["edgebench"], {}, {})
        store.record(second, _cell("k1", load_ms=4.0), time.time())
        assert store.cells() == [_cell("k2", load_ms=3.0), _cell("k1", load_ms=4.0)]
        assert store.cells(first) == [_cell("k1", Status.TIMEOUT), _cell("k2", load_ms=3.0)]
        try:
            import pandas  # noqa: F401  (the 'pandas' extra)
        except ImportError:
            with pytest.raises(DependencyMissingError, match=r"pip install 'edgebench\[pandas\]'"):
                store.cells_frame()
        else:
            frame = store.cells_frame()
            assert list(frame["key"]) == ["k2", "k1"] and list(frame["load_ms"]) == [3.0, 4.0]
            assert "fingerprint.arch" in frame.columns


def test_the_cell_table_holds_the_key_parts_sql_tells_apart(tmp_path):
    with Store(tmp_path / "r.db") as store:
        run = store.begin_run([], {}, {})
        for converter in (None, "onnx2tf"):
            store.record(run, _cell(f"k-{converter}", converter=converter, weights="sha256:ab",
                                    calibration="fashion-mnist:32:cd"), time.time())
        rows = store._db.execute("SELECT key, converter, weights, calibration FROM cell "
                                 "ORDER BY key").fetchall()
    assert rows == [("k-None", None, "sha256:ab", "fashion-mnist:32:cd"),
                    ("k-onnx2tf", "onnx2tf", "sha256:ab", "fashion-mnist:32:cd")]
