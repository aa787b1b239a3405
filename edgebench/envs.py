"""Pinned runtimes on this machine: one virtual environment per ``DISTRIBUTION==VERSION``.

``edgebench targets bootstrap local --runtimes onnxruntime==1.16.3`` creates it in
edgebench's cache with numpy (1.x for wheels built before numpy 2) and that exact version,
from the registries pip is configured for. The agent runs there from the same sources zip
that boards get, so nothing of the main environment leaks in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from .errors import EnvironmentSetupError
from .files import cache_dir
from .formats import RuntimeChoice

PIP_TIMEOUT_S = 1800.0


def why_failed(done) -> str:
    """The line of a failed pip / venv run that says why: pip's ERROR line, else the last."""
    lines = [line.strip() for line in (done.stderr or done.stdout or "").splitlines() if line.strip()]
    found = [line for line in lines if "ERROR" in line][-1:] or lines[-1:]
    return found[0][:250] if found else f"exit {done.returncode}"


def env_dir(choice: RuntimeChoice) -> Path:
    return cache_dir("envs", choice.env_name)


def env_python(choice: RuntimeChoice) -> Path:
    return env_dir(choice) / "bin" / "python"


READY = "edgebench-env-ready"  # written last: an environment without it is half-made


def is_ready(choice: RuntimeChoice) -> bool:
    return (env_dir(choice) / READY).is_file()


def installed() -> list[str]:
    """Specs of the pinned environments this machine has (``onnxruntime==1.16.3``...)."""
    root = cache_dir("envs")
    return sorted(p.read_text().strip() for p in root.glob(f"*/{READY}")) if root.is_dir() else []


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    if done.returncode != 0:
        raise EnvironmentSetupError(f"{what} failed: {why_failed(done)}")


def create(choice: RuntimeChoice, say: Callable[[str], None] = lambda s: None) -> Path:
    """The environment for ``choice`` (made once; a half-made one is made again)."""
    return make(env_dir(choice), choice.requirements(), choice.spec, say)


def make(folder: Path, requirements: list[str], spec: str,
         say: Callable[[str], None] = lambda s: None) -> Path:
    """A virtual environment at ``folder`` with ``requirements`` (made once; a half-made one,
    without its ready mark, is made again)."""
    ready = folder / READY
    if ready.exists():
        say(f"local: {spec} is already set up in {folder}")
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)  # not this venv's python
    say(f"local: virtual environment {folder} with {' '.join(requirements)}")
    _run([base, "-m", "venv", str(folder)], f"python -m venv {folder}")
    _run([str(folder / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
          "--no-warn-script-location", "-q", *requirements],
         f"pip install {' '.join(requirements)}")
    ready.write_text(spec + "\n")
    return folder
