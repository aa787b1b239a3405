"""The one schema version of everything edgebench writes, and the steps that read older ones.

Typed records (``--json`` and the store's attempts), artifact manifests and results stores
carry the version they were written under. Reading one applies, in order, each step from
its version up to ``SCHEMA_VERSION``; a step turns version-N data into version N+1. So a
store or a manifest written by an older edgebench is read by this one, and data from a
newer edgebench is refused with one line. Standard library only: the on-device agent
imports this module (through ``results``).

To change what is written: bump ``SCHEMA_VERSION`` and append a ``Step`` to ``STEPS``
that reads the previous version (and a test that reads data written by the previous
version, like ``tests/fixtures/``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

SCHEMA_VERSION = 2
FIRST_VERSION = 1


class SchemaError(ValueError):
    """Data of a schema version this edgebench cannot read."""


def newer_than_this(found: int) -> str:
    """The one line for data an edgebench newer than this one wrote."""
    return f"schema version {found}, this edgebench reads {SCHEMA_VERSION}: upgrade edgebench"


def version_of(data: Any) -> int:
    """``data``'s schema version, or a ``SchemaError`` when this edgebench cannot read it."""
    found = data.get("schema_version") if isinstance(data, dict) else None
    if not isinstance(found, int) or isinstance(found, bool) or found < FIRST_VERSION:
        raise SchemaError(f"schema version {found!r} is not one edgebench writes")
    if found > SCHEMA_VERSION:
        raise SchemaError(newer_than_this(found))
    return found


# ---- version 1 -> 2: ``converter`` names one thing, the store's cells name their parts --------

# The converters version 1 knew besides each format's own: an artifact's folder name ends
# with ``-NAME`` when one of them made it (FORMAT-PRECISION[-RUNG][-CONVERTER]).
_V1_OTHER_CONVERTERS = ("onnx2tf",)


def _v2_record(data: dict) -> dict:
    """Version 1's export cell named the converter's description ``converter``; version 2
    calls that ``converter_description`` and ``converter`` is the short name (None: the
    format's own), as latency and accuracy cells always had it."""
    if data.get("kind") != "export":
        return data
    name = data.get("name") or ""
    short = next((c for c in _V1_OTHER_CONVERTERS if name.endswith(f"-{c}")), None)
    return {**data, "converter": short, "converter_description": data.get("converter")}


def _v2_manifest(data: dict) -> dict:
    """Version 1 wrote ``converter`` (the description) and ``converter_name`` (the short
    name, ``default`` for the format's own)."""
    out = {k: v for k, v in data.items() if k != "converter_name"}
    short = data.get("converter_name")
    out["converter"] = None if short in (None, "default") else short
    out["converter_description"] = data.get("converter")
    return out


_V2_CELL_COLUMNS = ("converter", "weights", "calibration", "dataset")


def _v2_store(db) -> None:
    """The cell table gains the key's other parts, filled from each cell's latest record."""
    for column in _V2_CELL_COLUMNS:
        db.execute(f"ALTER TABLE cell ADD COLUMN {column} TEXT")
    rows = db.execute(
        "SELECT a.cell_key, a.record FROM attempt a WHERE a.n = "
        "(SELECT MAX(n) FROM attempt b WHERE b.cell_key = a.cell_key)").fetchall()
    for key, text in rows:
        parts = cell_parts(upgrade_record(json.loads(text)))
        db.execute("UPDATE cell SET converter = ?, weights = ?, calibration = ?, dataset = ? "
                   "WHERE key = ?", (*(parts[c] for c in _V2_CELL_COLUMNS), key))


def cell_parts(record: dict) -> dict:
    """The store's ``cell`` columns of a current-version record dict."""
    return {name: record.get(name) for name in
            ("kind", "model", "format", "precision", "runtime", "target", *_V2_CELL_COLUMNS)}


# ---- the steps -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """Reads version ``to - 1`` as version ``to``: a record dict, a manifest dict, and a
    results store's tables (given its open connection, inside the migration's transaction)."""

    to: int
    record: Callable[[dict], dict]
    manifest: Callable[[dict], dict]
    store: Callable[[Any], None]


STEPS: tuple[Step, ...] = (
    Step(2, _v2_record, _v2_manifest, _v2_store),
)


def _upgrade(data: Any, part: str) -> dict:
    found = version_of(data)
    for step in STEPS:
        if step.to > found:
            data = {**getattr(step, part)(data), "schema_version": step.to}
    return data


def upgrade_record(data: Any) -> dict:
    """A record dict of any readable version as the current version's dict."""
    return _upgrade(data, "record")


def upgrade_manifest(data: Any) -> dict:
    """A manifest dict of any readable version as the current version's dict."""
    return _upgrade(data, "manifest")


def store_steps(found: int) -> list[Step]:
    """The steps a store of version ``found`` needs, in order (a newer one: SchemaError)."""
    version_of({"schema_version": found})
    return [step for step in STEPS if step.to > found]

