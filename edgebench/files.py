"""File identity and edgebench's own cache folder: one implementation each."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path: Path | str, chunk_bytes: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def user_cache() -> Path:
    """$XDG_CACHE_HOME, else ~/.cache (torch.hub's rules too)."""
    return Path(os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")))


def cache_dir(*parts: str) -> Path:
    """edgebench's cache folder (or a sub-folder of it); not created here."""
    return user_cache().joinpath("edgebench", *parts)
