"""``edgebench targets emulate``: build (once), start, register and set up an emulated board."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from . import emulate, profiles
from .bootstrap import DEFAULT_PACKAGES, bootstrap, parse_packages

# Both TFLite interpreters: users of older Pi images know tflite-runtime.
EMULATED_PACKAGES = (*DEFAULT_PACKAGES, "tflite-runtime")


def client_key() -> Path:
    """edgebench's own key for the boards it emulates (made once, owner-only)."""
    from .ssh import asyncssh_module

    path = profiles.config_dir() / "keys" / "emulated_ed25519"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = asyncssh_module().generate_private_key("ssh-ed25519", comment="edgebench-emulated")
        key.write_private_key(str(path))
        path.chmod(0o600)
        key.write_public_key(str(path) + ".pub")
    return path


def bring_up(board: str, name: str, port: int, step: Callable[[str], None] = lambda s: None,
             say: Callable[[str], None] = lambda s: None) -> dict:
    """Build the board if needed, start it, register it as target ``name``, install the
    runtimes if it has none; returns what happened and how long each part took."""
    from .ssh import SSHTarget

    key = client_key()
    started = time.monotonic()
    built_before = emulate.Paths.of(board).built
    emulate.build(board, Path(str(key) + ".pub").read_text(), step)
    build_s = time.monotonic() - started
    started = time.monotonic()
    emulate.start(board, port)
    start_s = time.monotonic() - started
    profile = profiles.Profile(name=name, host="127.0.0.1", port=port, user="root", key=str(key),
                               emulated=True, board=board)
    old = profiles.load().get(name)
    if old is not None and old.emulated:
        profile = replace(profile, venvs=old.venvs)
    profiles.pin_host_key(profile, emulate.host_key(board))
    profiles.save(profile)
    setup_s = 0.0
    installed = emulate.Paths.of(board).rootfs / "root" / profile.workdir / "venv/bin/python"
    if not installed.exists():
        step("install the runtimes on the board (host wheels, emulated pip)")
        started = time.monotonic()
        with SSHTarget(profile) as target:
            bootstrap(target, parse_packages(",".join(EMULATED_PACKAGES)), "host", say)
        setup_s = time.monotonic() - started
    return {"target": name, "board": board, "port": port, "built_before": built_before,
            "build_s": build_s, "start_s": start_s, "setup_s": setup_s}
