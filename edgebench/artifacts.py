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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from .errors import OutputError, UserInputError, first_line
from .files import sha256_file
from .manifest import FileEntry, Manifest

MANIFEST = "manifest.json"
LOCK = ".lock"
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
    manifest: Manifest

    @property
    def model_file(self) -> Path:
        return self.path / self.manifest.file.name

    @property
    def status(self) -> str:
        return (self.manifest.status or self.manifest.validation.outcome).value

    @property
    def reason(self) -> str:
        return self.manifest.reason or self.manifest.validation.reason

    @property
    def stage(self) -> str | None:
        return self.manifest.stage.value if self.manifest.stage else None


def _malformed(folder: Path, why: str) -> UserInputError:
    return UserInputError(f"{folder / MANIFEST} is not a valid edgebench manifest ({why}): "
                          "export the artifact again or remove the folder")


def parse_manifest(folder: Path, data) -> Manifest:
    """``data`` (a manifest's JSON) as a typed manifest, or a one-line error naming the file."""
    try:
        manifest = Manifest.from_dict(data)
    except ValueError as e:  # the decoder's and the schema migration's one line
        raise _malformed(folder, first_line(e, 200)) from e
    if manifest.status is None and manifest.validation is None:
        raise _malformed(folder, "it records neither a status nor a validation")
    return manifest


def read(folder: Path) -> Artifact | None:
    """The artifact in ``folder``; None if it has no manifest; a one-line error if the
    manifest is unreadable or malformed."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    if not path.is_file():
        raise _malformed(folder, "not a regular file")
    try:
        data = json.loads(path.read_text(errors="replace"))
    except (OSError, ValueError) as e:
        raise _malformed(folder, f"unreadable: {first_line(e, 120)}") from e
    return Artifact(folder, parse_manifest(folder, data))


def verify_files(art: Artifact) -> None:
    """Every file the manifest names is a regular file with its recorded size and sha256."""
    for entry in art.manifest.files:
        path = art.path / entry.name
        if not path.is_file():
            raise UserInputError(f"{path} is missing or not a regular file: its manifest names it; "
                                 "export the artifact again")
        if path.stat().st_size != entry.size_bytes or sha256_file(path) != entry.sha256:
            raise UserInputError(f"{path} does not match its manifest (size or sha256 differs): "
                                 "it was changed after export; export the artifact again")


def find_cached(folder: Path, key: str) -> Artifact | None:
    """A reusable artifact with this cache key whose files match their sha256 (content, not
    size: a model changed on disk is never a cache hit)."""
    try:
        art = read(folder)
        if art is None or art.manifest.cache_key != key or \
                art.status not in REUSABLE_STATUSES:
            return None
        verify_files(art)
    except (UserInputError, OSError):
        return None
    return art


@contextmanager
def locked(folder: Path, on_wait=lambda: None) -> Iterator[None]:
    """Hold ``folder``'s lock file (an advisory ``flock``); ``on_wait`` is called once if
    another process holds it, then this one waits its turn."""
    import fcntl

    with open(folder / LOCK, "a+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


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


def describe_files(folder: Path) -> tuple[FileEntry, ...]:
    """Manifest entries for every model file in a staged folder (main file first)."""
    return tuple(FileEntry(p.name, p.stat().st_size, sha256_file(p))
                 for p in sorted(folder.iterdir(), key=lambda p: p.suffix == ".bin") if p.is_file())


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


def _write(path: Path, manifest: Manifest) -> None:
    path.write_text(json.dumps(manifest.to_dict(), indent=2, allow_nan=False) + "\n")


def annotate(folder: Path, **changes) -> Artifact:
    """Change fields of a committed artifact's manifest (its model files are untouched); an
    older version's manifest is written again in the current one."""
    path = folder / MANIFEST
    art = read(folder)
    if art is None:
        raise UserInputError(f"{path} does not exist: export the artifact again")
    manifest = replace(art.manifest, **changes)
    partial = path.with_name(f"{MANIFEST}.partial-{os.getpid()}")
    try:
        _write(partial, manifest)
        os.replace(partial, path)  # never a half-written manifest
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise OutputError(f"cannot update {path} ({e.strerror or e}): free space or check "
                          "its permissions") from e
    return Artifact(folder, manifest)


def commit(stage: Path, final: Path, manifest: Manifest) -> Artifact:
    """Write the manifest last, then swap the staged folder into place."""
    manifest = replace(manifest, created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    try:
        _write(stage / MANIFEST, manifest)
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
