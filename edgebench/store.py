"""The results store: SQLite (stdlib), one transaction per finished cell.

Three tables: ``run`` (one command: when, which edgebench, which host, its argv and config),
``cell`` (the stable cell key and its parts: model, weights, format, precision, converter,
calibration, runtime, target, data set) and ``attempt`` (each try of a cell: status, stage,
reason, the whole typed record, settings, fingerprint, tool versions, timestamps). A store
an older edgebench wrote is migrated in place when opened (``schema.STEPS``), in one
transaction.
Resume lives here, never in an execution engine: a cell whose latest attempt is a verdict
(``ok`` or a deterministic failure) is done; a transient one (``infra_error``, ``timeout``,
``crashed``, ``unreachable``, ``interrupted``) is tried again, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import EdgebenchError, UserInputError, require
from .results import Record, Status, from_dict
from .schema import SCHEMA_VERSION, cell_parts, store_steps
MAX_ATTEMPTS = 3  # a transient failure this many times is the cell's answer
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    finished_at REAL,
    edgebench_version TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    argv TEXT NOT NULL,
    config TEXT NOT NULL,
    fingerprint TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cell (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    model TEXT,
    format TEXT,
    precision TEXT,
    runtime TEXT,
    target TEXT,
    converter TEXT,
    weights TEXT,
    calibration TEXT,
    dataset TEXT
);
CREATE TABLE IF NOT EXISTS attempt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cell_key TEXT NOT NULL REFERENCES cell(key),
    run_id INTEGER NOT NULL REFERENCES run(id),
    n INTEGER NOT NULL,
    status TEXT NOT NULL,
    stage TEXT,
    reason TEXT NOT NULL,
    record TEXT NOT NULL,
    settings TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    tools TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    UNIQUE (cell_key, n)
);
CREATE INDEX IF NOT EXISTS attempt_by_run ON attempt (run_id);
"""


class StoreError(EdgebenchError):
    """The results store cannot be used (not SQLite, newer schema, locked)."""


@dataclass(frozen=True)
class Attempt:
    """One stored try of a cell."""

    cell_key: str
    run_id: int
    n: int
    status: Status
    reason: str
    record: Record
    started_at: float
    finished_at: float


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=False, default=str)


class Store:
    """An open results store. Use as a context manager; one writer (a sweep) at a time."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._check_file()
        try:
            # transactions by hand; a sweep's target threads share this connection under a lock
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                       isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._open()
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise StoreError(f"the results store {self.path} is locked by another "
                                 "edgebench: wait for it, or give another --store") from e
            raise StoreError(f"cannot open the results store {self.path}: {e}") from e
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not an edgebench results store ({e}): give "
                             "another --store path") from e

    def _open(self) -> None:
        # Switching a new file to WAL needs a lock that SQLite's busy handler does not wait
        # for: processes opening one new store at once retry here, for the busy timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA foreign_keys = ON")
                self._migrate()
                return
            except sqlite3.OperationalError as e:
                if not ("locked" in str(e) or "busy" in str(e)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_file(self) -> None:
        if self.path.is_dir():
            raise UserInputError(f"--store {self.path} is a folder: give a file path")
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, "rb") as f:
                if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                    raise StoreError(f"{self.path} is not an SQLite file: give another --store "
                                     "path (edgebench creates it)")
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _schema_version(self) -> int | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            return None  # a new file: no meta table yet
        return None if row is None else int(row[0])

    def _migrate(self) -> None:
        found = self._schema_version()  # read without a write lock: a read-only store opens
        if found is None:
            # Check again and create under one write lock: two edgebench processes opening the
            # same new file at once (a sweep and a report) must not both create the schema.
            with self._transaction():
                found = self._schema_version()
                if found is None:
                    tables = {r[0] for r in self._db.execute(
                        "SELECT name FROM sqlite_master WHERE type='table'")}
                    if tables:
                        raise StoreError(f"{self.path} is an SQLite file of something else "
                                         f"(tables {', '.join(sorted(tables))}): give another "
                                         "--store path")
                    for statement in filter(str.strip, SCHEMA.split(";")):
                        self._db.execute(statement)
                    self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)",
                                     (str(SCHEMA_VERSION),))
                    return
        if found > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer edgebench (store schema "
                             f"{found}, this one reads {SCHEMA_VERSION}): upgrade edgebench")
        if found < SCHEMA_VERSION:
            self._upgrade()

    def _upgrade(self) -> None:
        """An older edgebench's store, migrated in place: every step, or none of them."""
        with self._transaction():
            found = self._schema_version()  # another process may have migrated it meanwhile
            try:
                for step in store_steps(found):
                    step.store(self._db)
            except ValueError as e:  # SchemaError, or a stored record that is not JSON
                raise StoreError(f"cannot migrate the results store {self.path} to schema "
                                 f"{SCHEMA_VERSION} ({e}): it is left as it was") from e
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                             (str(SCHEMA_VERSION),))

    def _transaction(self):
        return _Transaction(self._db)

    # --- runs --------------------------------------------------------------------------------

    def begin_run(self, argv: list[str], config: dict, fingerprint: dict) -> int:
        """A new run; returns its id."""
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO run (started_at, edgebench_version, host, pid, argv, config, "
                "fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time.time(), __version__, socket.gethostname(), os.getpid(), _json(argv),
                 _json(config), _json(fingerprint)))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int) -> None:
        with self._transaction():
            self._db.execute("UPDATE run SET finished_at = ? WHERE id = ?", (time.time(), run_id))

    def runs(self) -> list[dict]:
        cols = ("id", "started_at", "finished_at", "edgebench_version", "host", "argv", "config",
                "fingerprint")
        rows = self._db.execute(f"SELECT {', '.join(cols)} FROM run ORDER BY id").fetchall()
        out = []
        for row in rows:
            d = dict(zip(cols, row))
            for k in ("argv", "config", "fingerprint"):
                d[k] = json.loads(d[k])
            out.append(d)
        return out

    def run_exists(self, run_id: int) -> bool:
        return self._db.execute("SELECT 1 FROM run WHERE id = ?", (run_id,)).fetchone() is not None

    # --- cells -------------------------------------------------------------------------------

    def record(self, run_id: int, record: Record, started_at: float) -> int:
        """Commit one finished cell (its own transaction); returns its attempt number."""
        key = getattr(record, "key", None)
        if not key:
            raise ValueError(f"a {record.KIND} record without a cell key cannot be stored")
        data = record.to_dict()
        fingerprint = data.get("fingerprint") or {}
        parts = cell_parts(data)
        with self._transaction():
            self._db.execute(
                f"INSERT OR IGNORE INTO cell (key, {', '.join(parts)}) "
                f"VALUES (?{', ?' * len(parts)})", (key, *parts.values()))
            (n,) = self._db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM attempt WHERE cell_key = ?",
                                    (key,)).fetchone()
            self._db.execute(
                "INSERT INTO attempt (cell_key, run_id, n, status, stage, reason, record, settings, "
                "fingerprint, tools, started_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, run_id, n, str(data["status"]), data.get("stage"), data.get("reason") or "",
                 _json(data), _json(data.get("settings") or {}), _json(fingerprint),
                 _json(data.get("tools") or {}), started_at, time.time()))
        return int(n)

    def latest(self, key: str) -> Attempt | None:
        """The cell's most recent attempt, or None."""
        rows = self._attempts("WHERE a.cell_key = ? ORDER BY a.n DESC LIMIT 1", (key,))
        return rows[0] if rows else None

    def is_done(self, key: str) -> bool:
        """True when the cell needs no more tries: a verdict, or too many transient failures."""
        last = self.latest(key)
        return last is not None and (last.status.is_verdict or last.n >= MAX_ATTEMPTS)

    def attempts(self, run_id: int | None = None) -> list[Attempt]:
        """Every attempt (of one run, when given), in the order they were committed."""
        if run_id is None:
            return self._attempts("ORDER BY a.id", ())
        return self._attempts("WHERE a.run_id = ? ORDER BY a.id", (run_id,))

    def latest_attempts(self, run_id: int | None = None) -> list[Attempt]:
        """The latest attempt of every cell (within one run, when given): what reports show."""
        within = "" if run_id is None else " AND b.run_id = a.run_id"
        where = "" if run_id is None else "a.run_id = ? AND "
        return self._attempts(f"WHERE {where}a.n = (SELECT MAX(n) FROM attempt b WHERE "
                              f"b.cell_key = a.cell_key{within}) ORDER BY a.id",
                              () if run_id is None else (run_id,))

    def cells(self, run_id: int | None = None) -> list[Record]:
        """The typed record of every cell's latest attempt (within one run, when given)."""
        return [a.record for a in self.latest_attempts(run_id)]

    def cells_frame(self, run_id: int | None = None):
        """``cells()`` as a pandas DataFrame: a row per cell, nested fields as dotted columns."""
        pandas = require("pandas", "pandas")
        return pandas.json_normalize([c.to_dict() for c in self.cells(run_id)])

    def _attempts(self, where: str, params: tuple) -> list[Attempt]:
        rows = self._db.execute(
            "SELECT a.cell_key, a.run_id, a.n, a.status, a.reason, a.record, a.started_at, "
            f"a.finished_at FROM attempt a {where}", params).fetchall()
        return [Attempt(k, r, n, Status(s), reason, from_dict(json.loads(rec)), t0, t1)
                for k, r, n, s, reason, rec, t0, t1 in rows]

    def exclusive(self) -> "_SweepLock":
        """Hold the store for one sweep: a second sweep on it is refused, not interleaved."""
        return _SweepLock(Path(f"{self.path}.sweep-lock"), self.path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: a cell is stored whole or not at all."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


class _SweepLock:
    """An advisory lock file (flock): released by the kernel when the holder dies, even by SIGKILL."""

    def __init__(self, path: Path, store: Path):
        self.path, self.store, self._fd = path, store, None

    def __enter__(self) -> "_SweepLock":
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreError(f"the results store {self.store} is locked by another sweep "
                             f"({holder}): wait for it to finish, or give another --store") from e
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
