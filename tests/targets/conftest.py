"""Real SSH boards for the target tests.

``host_board``: Debian's OpenSSH server on a loopback port of this machine, with its own host
key and one authorized client key; the "board's" environment is this test run's Python. Fast,
and what the fault tests use (they need to kill, refill and restart it).
``emulated_board``: the emulated Raspberry Pi 4 (aarch64 under qemu-user), built once into the
user's cache folder, started here and stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_root_and(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (an SSH server of its own, mounts)")
    missing = [t for t in tools if not (shutil.which(t) or Path(t).exists())]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (make test installs them)")


@pytest.fixture(scope="session", autouse=True)
def own_config(tmp_path_factory):
    """Profiles, known_hosts and keys in a folder of this run, never the user's."""
    folder = tmp_path_factory.mktemp("config")
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


@dataclass
class HostBoard:
    """A running sshd on 127.0.0.1:port; ``restart`` and ``stop`` act on it for real."""

    folder: Path
    port: int
    client_key: Path
    host_key: Path
    workdir: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.folder / "sshd.log", "ab")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config"),
                                      "-p", str(self.port)], stdout=log, stderr=log,
                                     start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError((self.folder / "sshd.log").read_text())

    def stop(self) -> None:
        """Kill sshd and every session it started (a board losing power)."""
        if self.proc is not None:
            sessions = _sessions_of(self.proc.pid)  # before they are orphaned
            os.killpg(self.proc.pid, 9)
            for pid in sessions:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def profile(self, name: str = "hostboard", **changes):
        from edgebench.targets.profiles import Profile

        fields = dict(name=name, host="127.0.0.1", port=self.port, user="root",
                      key=str(self.client_key), workdir=str(self.workdir))
        return Profile(**{**fields, **changes})

    def add(self, name: str = "hostboard", **changes):
        """Save and pin a profile for this board (as `targets add --accept-new-host-key`)."""
        from edgebench.targets import profiles

        profile = self.profile(name, **changes)
        profiles.save(profile)
        profiles.pin_host_key(profile, self.host_key.with_suffix(".pub").read_text())
        return profile


def processes():
    """(pid, state, parent pid, process group) of every process, from /proc."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            yield int(entry.name), stat[0], int(stat[1]), int(stat[2])


def _sessions_of(pid: int) -> list[int]:
    children = [p for p, _, parent, _ in processes() if parent == pid]
    return children + [grandchild for c in children for grandchild in _sessions_of(c)]


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def host_board(tmp_path_factory):
    need_root_and(SSHD, "ssh-keygen")
    folder = tmp_path_factory.mktemp("hostboard")
    host_key, client_key = _keygen(folder / "host_key"), _keygen(folder / "client_key")
    (folder / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    (folder / "authorized_keys").chmod(0o600)
    (folder / "sshd_config").write_text(
        f"HostKey {host_key}\nAuthorizedKeysFile {folder}/authorized_keys\nListenAddress 127.0.0.1\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"PermitRootLogin prohibit-password\nPidFile none\nStrictModes no\n"
        "Subsystem sftp internal-sftp\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    workdir = folder / "board"
    workdir.mkdir()
    (workdir / "venv").symlink_to(sys.prefix)  # the board's environment: this run's Python
    board = HostBoard(folder, free_port(), client_key, host_key, workdir)
    board.start()
    yield board
    board.stop()


@pytest.fixture(scope="session")
def emulated_board():
    """The emulated Raspberry Pi 4, registered as target 'rpi4' (built on first use: minutes)."""
    need_root_and("debootstrap", "qemu-aarch64-static", "unshare")
    from edgebench.targets import emulate

    if not emulate.root_is_a_mount():
        pytest.skip("needs / to be a mount point (here a chroot of a plain folder: "
                    "tools/clean-room bind-mounts its root onto itself)")
    from edgebench.targets.board import bring_up

    info = bring_up("rpi4", "rpi4", free_port())
    yield info
    emulate.stop("rpi4")
