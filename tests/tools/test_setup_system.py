"""tools/setup-system, run for real: a tool table naming a path that does not exist makes it
install the package or say in one line that it cannot; it never ends the set-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "setup-system"
NOBODY = 65534
MISSING = "/nonexistent/edgebench-set-up-test/tool"


def _table(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "packages.txt"
    path.write_text("# a table for the test\n" + "".join(f"{row}\n" for row in rows))
    path.chmod(0o644)
    return path


def _run(table: Path, *, user: int | None = None, env: dict | None = None) -> tuple[int, list[str]]:
    """The script as root, or as ``user`` (uid and gid) when given; its output lines."""
    argv = ["bash", str(SCRIPT), str(table)]
    if user is not None and os.geteuid() != user:
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            pytest.skip("needs root and setpriv to run the set-up as an unprivileged user")
        # the checkout may sit where that user cannot read (a clone in /root): the same script,
        # copied beside its table in a folder the user can read
        script = table.parent / SCRIPT.name
        shutil.copy(SCRIPT, script)
        script.chmod(0o755)
        argv = ["bash", str(script), str(table)]
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})})
    return proc.returncode, (proc.stdout + proc.stderr).strip().splitlines()


@pytest.fixture
def open_dir():
    """A folder the unprivileged user can read (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="edgebench-set-up-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def _nobody_home(folder: Path) -> dict:
    home = folder / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    return {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}


def test_nothing_missing_is_one_line_and_installs_nothing(tmp_path):
    code, lines = _run(_table(tmp_path, "/bin/sh  dash  a shell"))
    assert code == 0
    assert lines == ["set-up: system packages: all present (1 tools checked)"]


def test_without_root_a_missing_tool_is_named_with_why_and_the_fix(open_dir):
    table = _table(open_dir, f"{MISSING}  edgebench-no-such-package  the set-up test",
                   f"{MISSING}-2  edgebench-no-such-package  the set-up test",
                   "/bin/sh  dash  a shell")
    code, lines = _run(table, user=NOBODY, env=_nobody_home(open_dir))
    assert code == 0, lines
    (line,) = lines
    assert line.startswith("set-up: skipping edgebench-no-such-package (the set-up test): not root")
    assert "apt-get install edgebench-no-such-package)" in line and "dash" not in line


@pytest.mark.network
def test_without_root_the_data_package_is_unpacked_into_the_users_cache(open_dir):
    env = _nobody_home(open_dir)
    table = _table(open_dir, f"{MISSING}  dataset-fashion-mnist  the labelled images")
    code, lines = _run(table, user=NOBODY, env=env)
    assert code == 0, lines
    folder = Path(env["XDG_CACHE_HOME"]) / "edgebench" / "fashion-mnist"
    assert lines == [f"set-up: unpacked dataset-fashion-mnist into {folder} "
                     "(not root: no system install needed)"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{s}-{k}-ubyte.gz" for s in ("train", "t10k") for k in ("images-idx3", "labels-idx1"))


@pytest.mark.network
def test_as_root_one_package_the_registry_lacks_does_not_cost_the_others(tmp_path):
    """The real apt-get: the package that exists is installed (here: already is), the one
    that does not is named with apt's reason, and the set-up goes on (exit 0)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("needs root and apt-get (a Debian machine)")
    table = _table(tmp_path, f"{MISSING}  edgebench-no-such-package  the set-up test",
                   f"{MISSING}-2  make  building")
    code, lines = _run(table)
    assert code == 0, lines
    assert lines[0] == ("set-up: installing edgebench-no-such-package (the set-up test); "
                        "make (building)")
    (failed,) = [line for line in lines[1:] if "could not install" in line]
    assert failed.startswith("set-up: could not install edgebench-no-such-package (the set-up test): ")
    assert "edgebench-no-such-package" in failed.split(": ", 2)[2]
    assert not any("make" in line for line in lines[1:])


def test_an_unreadable_table_is_one_line(tmp_path):
    code, lines = _run(tmp_path / "absent.txt")
    assert code == 2 and lines == [f"set-up: cannot read the package table {tmp_path / 'absent.txt'}"]
