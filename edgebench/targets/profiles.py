"""Target profiles (a TOML file in the user's config folder) and edgebench's own known_hosts.

A profile names a board reached over SSH. Host keys are pinned in edgebench's known_hosts
file, never in the user's, and only by ``targets add`` (after confirmation), ``targets rekey``
or ``targets emulate`` (which built the board and read its key from disk).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from ..errors import UserInputError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RESERVED = ("local",)
REMOTE_HOME = ".cache/edgebench"  # relative to the login's home on the board
VENV = "venv"  # inside workdir


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/edgebench, else ~/.config/edgebench."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "edgebench"


def profiles_file() -> Path:
    return config_dir() / "targets.toml"


def known_hosts_file() -> Path:
    return config_dir() / "known_hosts"


@dataclass(frozen=True)
class Profile:
    """One board: how to reach it and where edgebench's environments live on it."""

    name: str
    host: str
    port: int = 22
    user: str | None = None  # None: the local user name, as ssh does
    key: str | None = None  # None: the user's default SSH keys and agent
    emulated: bool = False  # an emulated board: compatibility and numerics only, no speed
    board: str | None = None  # the emulated board's kind (rpi4, ...)
    workdir: str = REMOTE_HOME  # edgebench's folder on the board, relative to the login's home
    # venv per runtime on the board; "default" is used for every runtime not named
    venvs: dict[str, str] = field(default_factory=lambda: {"default": VENV})

    def python(self, runtime: str | None = None) -> str:
        """The venv python for ``runtime``, relative to the login's home."""
        venv = self.venvs.get(runtime or "default") or self.venvs.get("default", VENV)
        return f"{self.workdir}/{venv}/bin/python"

    def known_hosts_name(self) -> str:
        """How OpenSSH's known_hosts names this host and port."""
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, d: dict) -> "Profile":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserInputError(f"target {d.get('name')!r} in {profiles_file()} has unknown keys "
                                 f"{', '.join(unknown)}: remove them")
        return cls(**d)


def check_name(name: str) -> str:
    if name in RESERVED:
        raise UserInputError(f"{name!r} is this machine's target name: choose another")
    if not NAME_RE.match(name):
        raise UserInputError(f"target name {name!r} is not valid: letters, digits, '.', '_' "
                             "and '-', up to 64 characters")
    return name


def check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise UserInputError(f"--port {port} is not a TCP port: give 1 to 65535")
    return port


def load() -> dict[str, Profile]:
    """Every profile, by name; an unreadable file is a one-line error naming it."""
    path = profiles_file()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UserInputError(f"cannot read {path}: {e}: fix or remove it") from e
    targets = data.get("targets", {})
    if not isinstance(targets, dict):
        raise UserInputError(f"{path}: [targets] is not a table: fix or remove the file")
    try:
        return {name: Profile.from_dict({**d, "name": name}) for name, d in targets.items()}
    except TypeError as e:
        raise UserInputError(f"{path}: a target entry is malformed ({e}): fix or remove it") from e


def get(name: str) -> Profile:
    profiles = load()
    if name not in profiles:
        known = ", ".join(["local", *profiles])
        raise UserInputError(f"unknown target {name!r}: known targets are {known} "
                             "(add one with edgebench targets add NAME --host HOST)")
    return profiles[name]


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _write(profiles: dict[str, Profile]) -> None:
    path = profiles_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# edgebench targets: edit with `edgebench targets add/remove/rekey`", ""]
    for name in sorted(profiles):
        lines.append(f"[targets.{json.dumps(name)}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in profiles[name].to_dict().items() if k != "name"]
        lines.append("")
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(lines))
    os.replace(partial, path)


def save(profile: Profile) -> None:
    profiles = load()
    profiles[profile.name] = profile
    _write(profiles)


def delete(name: str) -> bool:
    profiles = load()
    profile = profiles.pop(name, None)
    if profile is None:
        return False
    _write(profiles)
    forget_host_key(profile)
    return True


def update(name: str, **changes) -> Profile:
    profile = replace(get(name), **changes)
    save(profile)
    return profile


# --- known_hosts -------------------------------------------------------------------------

def _known_lines() -> list[str]:
    path = known_hosts_file()
    return path.read_text().splitlines() if path.exists() else []


def pinned_keys(profile: Profile) -> list[str]:
    """The pinned host keys of ``profile`` ("type base64")."""
    name = profile.known_hosts_name()
    keys = []
    for line in _known_lines():
        parts = line.split()
        if len(parts) >= 3 and name in parts[0].split(","):
            keys.append(f"{parts[1]} {parts[2]}")
    return keys


def pin_host_key(profile: Profile, key: str) -> None:
    """Pin ``key`` ("type base64") for ``profile``, replacing any key pinned for it before."""
    name = profile.known_hosts_name()
    kept = [line for line in _known_lines()
            if not (line.split() and name in line.split()[0].split(","))]
    path = known_hosts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join([*kept, f"{name} {' '.join(key.split()[:2])}"]) + "\n")
    os.replace(partial, path)


def forget_host_key(profile: Profile) -> None:
    """Drop the keys pinned for ``profile``'s host and port, unless another profile uses them."""
    name = profile.known_hosts_name()
    if name in {p.known_hosts_name() for p in load().values()}:
        return
    kept = [line for line in _known_lines() if not (line.split() and line.split()[0] == name)]
    path = known_hosts_file()
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(kept) + ("\n" if kept else ""))
    os.replace(partial, path)
