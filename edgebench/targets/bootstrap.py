"""Probe a board and set it up: virtual environments with numpy and the chosen runtimes.

When the board cannot reach a package registry (or is emulated), the host downloads the
wheels for the board's platform and Python and uploads them through the target's
content-addressed ``put``: a wheel is never sent twice. What is installed for each runtime is
its row's ``board_packages``; a distribution built against numpy 1.x (``tflite-runtime``) gets
its own environment, which then serves its runtime.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

from .. import formats
from ..envs import PIP_TIMEOUT_S, why_failed
from ..errors import EnvironmentSetupError, UserInputError
from ..files import cache_dir
from ..results import Status
from . import TargetError
from .bundle import agent_bundle
from .profiles import VENV, Profile, update

WHEEL_SOURCES = ("auto", "board", "host")
class BootstrapError(EnvironmentSetupError):
    """The board could not be set up."""


@dataclass(frozen=True)
class BoardPackage:
    """What ``--runtimes NAME`` installs on a board, and which runtime it serves."""

    name: str
    runtime: str  # the capability table's runtime this serves
    distribution: str  # the pip distribution
    venv: str  # folder inside the board's workdir
    numpy: str = "numpy"
    pin_to_host: bool = True  # the host's version, so board and host results compare
    version: str | None = None  # pinned by the user (NAME==VERSION): its own environment

    @classmethod
    def pinned(cls, choice) -> "BoardPackage":
        """``DISTRIBUTION==VERSION``: its own environment, named by the spec."""
        return cls(choice.spec, choice.runtime, choice.distribution.name, f"venv-{choice.env_name}",
                   numpy=choice.requirements()[0], pin_to_host=False, version=choice.version)

    def requirement(self) -> str:
        if self.version:
            return f"{self.distribution}=={self.version}"
        if self.pin_to_host:
            try:
                return f"{self.distribution}=={metadata.version(self.distribution)}"
            except metadata.PackageNotFoundError:
                pass
        return self.distribution


def _board_package(spec: formats.RuntimeSpec, n: int, distribution: str) -> BoardPackage:
    """The ``n``-th of a runtime's board packages: the first goes by the runtime's name. One
    built against numpy 1.x only gets an environment of its own, beside the numpy 2 one, and
    the newest version the board's pip finds: the host (on numpy 2) is no version to match."""
    name = spec.name if n == 0 else distribution
    if spec.distribution(distribution).numpy2_from is None:
        return BoardPackage(name, spec.name, distribution, f"venv-{name}", numpy="numpy<2",
                            pin_to_host=False)
    return BoardPackage(name, spec.name, distribution, VENV)


BOARD_PACKAGES: dict[str, BoardPackage] = {p.name: p for p in (
    _board_package(spec, n, d) for spec in formats.RUNTIMES.values()
    for n, d in enumerate(spec.board_packages))}
# every runtime that can go on a board, in its first (default) distribution
DEFAULT_PACKAGES = tuple(r.name for r in formats.RUNTIMES.values() if r.board_packages)


def parse_packages(text: str | None) -> tuple[BoardPackage, ...]:
    """``--runtimes``: names from BOARD_PACKAGES, or pinned ``DISTRIBUTION==VERSION``."""
    names = tuple(n.strip() for n in (text or ",".join(DEFAULT_PACKAGES)).split(",") if n.strip())
    unknown = [n for n in names if n not in BOARD_PACKAGES and "==" not in n]
    if unknown or not names:
        raise UserInputError(f"unknown runtime {', '.join(unknown) or '(none)'} for --runtimes: "
                             f"choose from {', '.join(BOARD_PACKAGES)}, or pin one "
                             "(onnxruntime==1.16.3)")
    return tuple(BOARD_PACKAGES[n] if n in BOARD_PACKAGES else BoardPackage.pinned(formats.parse_runtime(n))
                 for n in names)


def probe(target, python: str | None = None) -> dict:
    """The board's fingerprint, read by its own Python (stdlib only: works before bootstrap)."""
    bundle = target.put(agent_bundle())
    candidates = [python] if python else [target.profile.python(), "python3"]
    last = None
    for py in candidates:
        done = target.run_command(["env", f"PYTHONPATH={bundle}", py, "-m", "edgebench.fingerprint"],
                                  timeout_s=180)
        if done.returncode == 0:
            try:
                return json.loads(done.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                last = f"unreadable output from {py}"
                continue
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1][:200]
    raise TargetError(Status.INFRA_ERROR, f"cannot run Python on {target.name}: {last} "
                      "(install python3 on the board)")


def platform_tags(arch: str, glibc: str | None) -> list[str]:
    """pip --platform tags a board with this arch and glibc accepts, newest first."""
    major, minor = (int(x) for x in (glibc or "2.17").split(".")[:2])
    tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 16, -1)]
    return [*tags, f"manylinux2014_{arch}", f"linux_{arch}"]


def download_wheels(requirements: list[str], python: str, arch: str, glibc: str | None,
                    say: Callable[[str], None]) -> list[Path]:
    """Wheels for the board (and their dependencies), fetched by this host's pip."""
    version = python.replace(".", "")[:3] if python.count(".") else python
    folder = cache_dir("wheels", f"cp{version}-{arch}")
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
            "--only-binary=:all:", "--implementation", "cp", "--python-version", version,
            "--dest", str(folder)]
    for tag in platform_tags(arch, glibc):
        argv += ["--platform", tag]
    say(f"downloading wheels for cp{version} {arch} on this host: {' '.join(requirements)}")
    done = subprocess.run([*argv, *requirements], capture_output=True, text=True)
    if done.returncode != 0:
        raise BootstrapError(f"cannot download wheels for the board ({arch}, Python {python}): "
                             f"{why_failed(done)}")
    saved = [line.split("Saved ", 1)[1].strip() for line in done.stdout.splitlines()
             if "Saved " in line]
    names = {Path(s).name for s in saved} | {
        line.split("File was already downloaded ", 1)[1].strip().split("/")[-1]
        for line in done.stdout.splitlines() if "File was already downloaded " in line}
    return sorted(folder / n for n in names if (folder / n).exists())


def _check(done, what: str) -> None:
    if done.returncode != 0:
        raise BootstrapError(f"{what} failed on the board: {why_failed(done)}")


def bootstrap(target, packages: tuple[BoardPackage, ...], wheels: str = "auto",
              say: Callable[[str], None] = lambda s: None) -> dict:
    """Set the board up for ``packages``; returns the board's fingerprint afterwards."""
    if wheels not in WHEEL_SOURCES:
        raise UserInputError(f"--wheels {wheels!r}: choose from {', '.join(WHEEL_SOURCES)}")
    profile: Profile = target.profile
    info = probe(target, "python3")
    arch, py = info["arch"], ".".join(info["python"].split(".")[:2])
    glibc = info["os"].rsplit("glibc", 1)[1] if "glibc" in info["os"] else None
    say(f"{target.name}: {arch}, Python {info['python']}, {info.get('os')}")
    venvs = dict(profile.venvs)
    for venv in sorted({p.venv for p in packages}):
        group = [p for p in packages if p.venv == venv]
        requirements = [group[0].numpy, *(p.requirement() for p in group)]
        path = f"{profile.workdir}/{venv}"
        say(f"{target.name}: virtual environment {path} with {' '.join(requirements)}")
        _check(target.run_command(["python3", "-m", "venv", path], timeout_s=600),
               f"python3 -m venv {path} (install python3-venv on the board)")
        pip = [f"{path}/bin/python", "-m", "pip", "install", "--disable-pip-version-check",
               "--no-warn-script-location", "-q"]
        source = wheels if wheels != "auto" else ("host" if profile.emulated else "board")
        if source == "board":
            done = target.run_command([*pip, "--retries", "0", "--timeout", "15", *requirements],
                                      timeout_s=PIP_TIMEOUT_S)
            if done.returncode == 0:
                source = None
            elif wheels == "board":
                _check(done, "pip install")
            else:
                say(f"{target.name} cannot install from a registry: sending wheels from this host")
                source = "host"
        if source == "host":
            files = download_wheels(requirements, py, arch, glibc, say)
            links: list[str] = []
            for n, wheel in enumerate(files, 1):
                say(f"upload {n}/{len(files)}: {wheel.name}")
                links += ["--find-links", target.put(wheel).rsplit("/", 1)[0]]
            _check(target.run_command([*pip, "--no-index", *links, *requirements],
                                      timeout_s=PIP_TIMEOUT_S), "pip install")
        for p in group:
            if p.venv == VENV:
                venvs["default"] = VENV
                continue
            venvs[p.name] = p.venv
            if not p.version and not any(q.runtime == p.runtime and q.venv == VENV for q in packages):
                venvs[p.runtime] = p.venv  # ai-edge-litert, when also chosen, serves tflite
    updated = update(profile.name, venvs=venvs)
    target.profile = updated
    for venv in sorted(set(venvs.values())):
        found = probe(target, f"{profile.workdir}/{venv}/bin/python")
        versions = ", ".join(f"{k} {v}" for k, v in found["versions"].items() if k != "edgebench")
        say(f"{target.name}: {venv}: {versions}")
    return probe(target)


def probe_host() -> dict:
    """This machine described as ``probe`` describes a board ('local')."""
    import shutil

    from .. import fingerprint

    return {**fingerprint.collect(), "disk_free_mb": shutil.disk_usage(".").free / 2**20,
            "python_executable": sys.executable}


def bootstrap_host(packages: tuple[BoardPackage, ...], say: Callable[[str], None]) -> dict:
    """Pinned runtimes on this machine, each in an environment of its own; the rest is this
    environment's own (pip extras)."""
    from ..formats import parse_runtime
    from ..envs import create, installed

    unpinned = [p.name for p in packages if not p.version]
    if unpinned:
        raise UserInputError(f"'local' already has {', '.join(unpinned)} from pip (pip install "
                             "'edgebench[all]'): pin a version for its own environment, "
                             "like onnxruntime==1.16.3")
    for p in packages:
        create(parse_runtime(p.name), say)
    return {"target": "local", "environments": installed()}
