"""Artifact folders: the model file(s) plus ``manifest.json``, written atomically.

A folder is built under a hidden staging name and renamed into place only when its
manifest is complete, so an interrupted or failed write never leaves something a
later run could mistake for a valid artifact.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import OutputError
from .files import sha256_file

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1
_STAGING_PREFIX = ".staging-"
# Outcomes a later identical export reuses: the same inputs and tool versions give the same
# artifact, failed validation included (it is reported again; --force redoes it).
REUSABLE_STATUSES = ("ok", "degraded", "failed", "load_failed", "run_failed")
# "No space left", "file too large" (a size limit), "quota exceeded": all mean a full disk here.
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def cache_key(parts: dict) -> str:
    """A stable hash of everything that determines an artifact's bytes."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Artifact:
    """A committed artifact folder and its manifest."""

    path: Path
    manifest: dict

    @property
    def model_file(self) -> Path:
        return self.path / self.manifest["file"]["name"]

    @property
    def status(self) -> str:
        return self.manifest.get("status") or self.manifest["validation"]["outcome"]

    @property
    def reason(self) -> str:
        return self.manifest.get("reason") or self.manifest["validation"]["reason"]

    @property
    def stage(self) -> str | None:
        return self.manifest.get("stage")


def read(folder: Path) -> Artifact | None:
    """The artifact in ``folder``, or None if there is no readable manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("schema_version") != SCHEMA_VERSION:
        return None
    return Artifact(folder, manifest)


def find_cached(folder: Path, key: str) -> Artifact | None:
    """A reusable artifact with this cache key whose model files are intact."""
    art = read(folder)
    if art is None or art.manifest.get("cache_key") != key or art.status not in REUSABLE_STATUSES:
        return None
    try:
        for part in art.manifest["files"]:
            if (folder / part["name"]).stat().st_size != part["size_bytes"]:
                return None
    except (OSError, KeyError):
        return None
    return art


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there, or explain why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as e:
        raise OutputError(
            f"output folder {folder} is not writable ({e.strerror or e}): "
            "choose another with --out") from e


def clean_stale(parent: Path) -> None:
    """Remove staging folders left by interrupted runs whose process is gone."""
    if not parent.is_dir():
        return
    for child in parent.iterdir():
        if not child.name.startswith(_STAGING_PREFIX):
            continue
        pid = child.name.split("-")[-1]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(child, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers from an earlier, aborted attempt
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_files(folder: Path) -> dict:
    """Manifest entries for every model file in a staged folder (main file first)."""
    parts = [{"name": p.name, "size_bytes": p.stat().st_size, "sha256": sha256_file(p)}
             for p in sorted(folder.iterdir(), key=lambda p: p.suffix == ".bin") if p.is_file()]
    return {"file": parts[0], "files": parts, "size_bytes": sum(p["size_bytes"] for p in parts)}


@contextmanager
def staging(final: Path) -> Iterator[Path]:
    """A private folder beside ``final``; ``commit`` moves it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(final.parent)
    stage = final.parent / f"{_STAGING_PREFIX}{final.name}-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
    except OSError as e:
        if e.errno in _DISK_FULL:
            raise OutputError(
                f"disk full while writing {final} ({e.strerror}): free space or choose another "
                "--out") from e
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def commit(stage: Path, final: Path, manifest: dict) -> Artifact:
    """Write the manifest last, then swap the staged folder into place."""
    manifest = {"schema_version": SCHEMA_VERSION, **manifest,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        old = None
        if final.exists():
            old = final.parent / f"{_STAGING_PREFIX}old-{final.name}-{os.getpid()}"
            final.rename(old)
        stage.rename(final)
    except OSError as e:
        raise OutputError(f"cannot write artifact {final} ({e.strerror or e}): free space or "
                          "choose another --out") from e
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return Artifact(final, manifest)
