"""The agent as one zip file: what a board runs is exactly this host's edgebench.

The zip holds the package's Python sources with fixed timestamps, so the same sources give
the same bytes, the same sha256 and therefore one upload per edgebench version. Python
imports from it directly (``PYTHONPATH=bundle.zip``); nothing is installed on the board
except numpy and the runtimes.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from functools import lru_cache
from pathlib import Path

from ..files import cache_dir

PACKAGE = Path(__file__).resolve().parents[1]
EPOCH = (1980, 1, 1, 0, 0, 0)


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@lru_cache(maxsize=1)
def agent_bundle() -> Path:
    """Path of the zip of this edgebench's sources (built once per content)."""
    files = _sources()
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(PACKAGE.parent)).encode() + b"\0" + path.read_bytes())
    out = cache_dir("agent", f"edgebench-agent-{digest.hexdigest()[:16]}.zip")
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(f".partial-{os.getpid()}")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(PACKAGE.parent)), EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, path.read_bytes())
    os.replace(partial, out)
    return out
