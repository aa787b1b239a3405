"""What the test suite shares and would otherwise build inside its timed run (`make test-setup`,
``python -m tests.prepare``): the pinned-runtime environments, onnx2tf's environment and the
emulated Raspberry Pi 4 with its runtimes. Each is built once into edgebench's cache, where the
session fixtures find it; one line says what each step did. What cannot be built here is said,
and the tests that need it skip with the reason."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Callable

from tests.helpers import PINNED_RUNTIMES

BOARD = "rpi4"


def say(text: str) -> None:
    print(f"test set-up: {text}", flush=True)


@contextmanager
def _own_config():
    """A board registered here lands in a throw-away config folder, not the user's."""
    old = os.environ.get("XDG_CONFIG_HOME")
    with tempfile.TemporaryDirectory(prefix="edgebench-test-setup-") as folder:
        os.environ["XDG_CONFIG_HOME"] = folder
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("XDG_CONFIG_HOME", None)
            else:
                os.environ["XDG_CONFIG_HOME"] = old


def pinned_runtimes() -> str:
    from edgebench.formats import parse_runtime
    from edgebench.envs import create, is_ready

    done = []
    for spec in PINNED_RUNTIMES:
        choice = parse_runtime(spec)
        made = not is_ready(choice)
        create(choice)
        done.append(f"{spec} ({'made' if made else 'ready'})")
    return "pinned runtimes: " + ", ".join(done)


def onnx2tf() -> str:
    from edgebench.export.onnx2tf import environment

    return f"onnx2tf's environment: {environment()}"


def emulated_board() -> str:
    from edgebench.targets import emulate
    from edgebench.targets.board import bring_up
    from tests.targets.conftest import free_port

    with _own_config():
        try:  # root, the host tools and / as a mount point: emulate checks them first
            info = bring_up(BOARD, BOARD, free_port())
        except emulate.EmulationError as e:
            return f"skipped the emulated {BOARD}: {e}"
        emulate.stop(BOARD)
    if info["built_before"] and not info["setup_s"]:
        return f"the emulated {BOARD}: built before, runtimes installed"
    return (f"the emulated {BOARD}: built in {info['build_s']:.0f} s, runtimes installed in "
            f"{info['setup_s']:.0f} s")


STEPS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("pinned runtimes", pinned_runtimes),
    ("onnx2tf", onnx2tf),
    ("the emulated board", emulated_board),
)


def main() -> int:
    """Every step is tried; a failed one is said in one line and the tests go on: those that
    need it fail or skip with their own reason, the others are not held back."""
    for what, step in STEPS:
        started = time.monotonic()
        try:
            line = step()
        except Exception as e:  # noqa: BLE001 - each step's failure is reported, the rest go on
            first = str(e).splitlines()[0] if str(e) else ""
            line = f"{what} failed ({e.__class__.__name__}: {first}); the tests that need it will say so"
        say(f"{line} [{time.monotonic() - started:.0f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
