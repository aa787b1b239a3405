"""An emulated Raspberry Pi: an aarch64 Debian root filesystem under qemu-user, with a key-only
SSH server on a loopback port. For compatibility and numerics, never for speed.

Built once into the user's cache folder (``boards/NAME``), as root on a Linux host with
``qemu-user-static``, ``binfmt-support`` and ``debootstrap``. The traps it avoids: qemu passes
the host's x86 /proc/cpuinfo through (onnxruntime then segfaults at import), so an arm64
cpuinfo is bound over it; and qemu's default ``max`` CPU exposes SVE, which sends the runtimes
down slow paths, so every emulated process gets ``QEMU_CPU`` of the board's real core.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EdgebenchError, UserInputError
from ..files import cache_dir
from .profiles import REMOTE_HOME as REMOTE_WORKDIR

SUITE = "bookworm"  # Debian 12: Python 3.11, for which every runtime has an aarch64 wheel
PACKAGES = ("python3", "python3-venv", "ca-certificates", "openssh-server")
HOST_TOOLS = {"debootstrap": "debootstrap", "qemu-aarch64-static": "qemu-user-static",
              "unshare": "util-linux", "chroot": "coreutils"}
BINFMT = Path("/proc/sys/fs/binfmt_misc")
DEFAULT_PORT = 2222
START_TIMEOUT_S = 60.0
# The board's sshd: keys only; environment for every session (the emulated CPU).
SSHD_CONFIG = """\
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
PrintMotd no
ClientAliveInterval 15
SetEnv QEMU_CPU={cpu}
"""
# The script that starts the board, given its root filesystem, cpuinfo, hostname, CPU and
# port as positional parameters (never interpolated): mounts live in the board's own mount
# namespace and vanish with it.
START_SCRIPT = (
    'set -e; r="$1"; mount --make-rprivate /; mount -t proc proc "$r/proc"; '
    'mount --bind "$2" "$r/proc/cpuinfo"; mount -t sysfs sys "$r/sys"; '
    'mount --rbind /dev "$r/dev"; mount -t tmpfs tmpfs "$r/run"; mkdir -p "$r/run/sshd"; '
    'hostname "$3"; exec env QEMU_CPU="$4" chroot "$r" /usr/sbin/sshd -D -e '
    '-o Port="$5" -o ListenAddress=127.0.0.1')


class EmulationError(EdgebenchError):
    """The emulated board cannot be built or started on this host."""


@dataclass(frozen=True)
class Board:
    """A board the emulator imitates: its core for qemu and the cpuinfo its OS shows."""

    name: str
    description: str
    qemu_cpu: str
    cpuinfo: str
    hostname: str = "raspberrypi"


def _cpuinfo(part: str, model: str, features: str, cores: int = 4) -> str:
    block = ("processor\t: {n}\nBogoMIPS\t: 108.00\nFeatures\t: " + features +
             "\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\n"
             f"CPU part\t: {part}\nCPU revision\t: 3\n\n")
    return "".join(block.format(n=n) for n in range(cores)) + f"Model\t\t: {model}\n"


BOARDS: dict[str, Board] = {b.name: b for b in (
    Board("rpi4", "Raspberry Pi 4 (Cortex-A72, ARMv8.0)", "cortex-a72",
          _cpuinfo("0xd08", "Raspberry Pi 4 Model B Rev 1.1",
                   "fp asimd evtstrm crc32 cpuid")),
    Board("rpi5", "Raspberry Pi 5 (Cortex-A76, ARMv8.2: fp16, dotprod)", "cortex-a76",
          _cpuinfo("0xd0b", "Raspberry Pi 5 Model B Rev 1.0",
                   "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid "
                   "asimdrdm lrcpc dcpop asimddp")),
)}


@dataclass(frozen=True)
class Paths:
    """Where one emulated board lives on the host."""

    root: Path

    @classmethod
    def of(cls, board: str) -> "Paths":
        return cls(cache_dir("boards", board))

    @property
    def rootfs(self) -> Path:
        return self.root / "rootfs"

    @property
    def building(self) -> Path:
        return self.root / "rootfs.partial"

    @property
    def cpuinfo(self) -> Path:
        return self.root / "cpuinfo"

    @property
    def pidfile(self) -> Path:
        return self.root / "sshd.pid"

    @property
    def log(self) -> Path:
        return self.root / "sshd.log"

    @property
    def built(self) -> bool:
        return (self.rootfs / "usr/sbin/sshd").exists()


def board(name: str) -> Board:
    if name not in BOARDS:
        raise UserInputError(f"unknown board {name!r}: choose from {', '.join(BOARDS)}")
    return BOARDS[name]


def root_is_a_mount() -> bool:
    """Whether / is a mount point, as on any machine; inside a chroot of a plain folder it is
    not, and the board's ``unshare --mount`` cannot make / private there."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return True  # nothing to tell by: let unshare say
    return any(len(fields := line.split()) > 4 and fields[4] == "/" for line in lines)


def _require_host() -> None:
    if os.name != "posix" or not Path("/proc").is_dir():
        raise EmulationError("emulated boards need a Linux host")
    if os.geteuid() != 0:
        raise EmulationError("emulated boards need root (debootstrap, chroot, mounts): "
                             "run edgebench targets emulate as root")
    if not root_is_a_mount():
        raise EmulationError("emulated boards need / to be a mount point, and here it is a plain "
                             "folder (a chroot?): bind-mount the root onto itself first, as "
                             "tools/clean-room does")
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise EmulationError(f"missing host packages for emulation: apt-get install "
                             f"{' '.join(missing)}")


def ensure_binfmt() -> None:
    """qemu-aarch64 registered with the kernel (lost on every reboot of the host)."""
    if not (BINFMT / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)],
                       check=False, capture_output=True)
    entry = BINFMT / "qemu-aarch64"
    if not entry.exists() and shutil.which("update-binfmts"):
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=False,
                       capture_output=True)
    if not entry.exists() or "enabled" not in entry.read_text():
        raise EmulationError("qemu-aarch64 is not registered with binfmt_misc: apt-get install "
                             "qemu-user-static binfmt-support, then update-binfmts --enable "
                             "qemu-aarch64")


def debian_mirror() -> str:
    """The Debian mirror this host's apt already uses (deb822 or one-line sources)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"^\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(\S+)", text, re.M):
            uri = match.group(1).rstrip("/")
            if uri.startswith(("http://", "https://")) and "security" not in uri:
                return uri
    raise EmulationError("no Debian mirror in /etc/apt/sources.list(.d): set "
                         "EDGEBENCH_DEBIAN_MIRROR to one")


def _run(argv: list[str], what: str, log: Path, env: dict | None = None) -> None:
    with open(log, "ab") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    if done.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise EmulationError(f"{what} failed (exit {done.returncode}): {tail[0][:200]} "
                             f"(full log: {log})")


def build(name: str, client_key_pub: str, step: Callable[[str], None] = lambda s: None) -> Paths:
    """Build the board's root filesystem once (copied from another built board where there is
    one); a half-built one is removed and rebuilt."""
    _require_host()
    spec, paths = board(name), Paths.of(name)
    if paths.built:
        _authorize(paths.rootfs, client_key_pub, spec)
        return paths
    ensure_binfmt()
    paths.root.mkdir(parents=True, exist_ok=True)
    if paths.building.exists():
        _unmount_under(paths.building)
        shutil.rmtree(paths.building)
    log = paths.root / "build.log"
    log.write_text("")
    seed = next((Paths.of(other) for other in BOARDS if other != name and Paths.of(other).built),
                None)
    if seed is not None:
        _copy_from(seed, paths, spec, log, step)
        _authorize(paths.rootfs, client_key_pub, spec)
        return paths
    mirror = os.environ.get("EDGEBENCH_DEBIAN_MIRROR") or debian_mirror()
    step(f"debootstrap {SUITE} arm64, first stage (from {mirror})")
    _run(["debootstrap", "--arch=arm64", "--foreign", "--variant=minbase",
          f"--include={','.join(PACKAGES)}", SUITE, str(paths.building), mirror],
         "debootstrap (first stage)", log)
    # Services must not start inside the image while packages install.
    policy = paths.building / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    step("debootstrap second stage, emulated (about 3 minutes)")
    _run(["chroot", str(paths.building), "/debootstrap/debootstrap", "--second-stage"],
         "debootstrap (second stage, emulated)", log,
         env={**os.environ, "QEMU_CPU": spec.qemu_cpu, "LC_ALL": "C"})
    _unmount_under(paths.building)
    os.replace(paths.building, paths.rootfs)
    _authorize(paths.rootfs, client_key_pub, spec)
    return paths


def _copy_from(seed: Paths, paths: Paths, spec: Board, log: Path,
               step: Callable[[str], None]) -> None:
    """The boards differ only in their core and cpuinfo, not in their Debian: copy a built
    one's root filesystem, without its host keys (each board has its own) or edgebench's
    environments (each board gets its own, recorded in its own target)."""
    step(f"copy the root filesystem of {seed.root.name} (seconds, not a new debootstrap)")
    _run(["cp", "-a", "--reflink=auto", str(seed.rootfs), str(paths.building)],
         f"copying {seed.rootfs}", log)
    shutil.rmtree(paths.building / "root" / REMOTE_WORKDIR, ignore_errors=True)
    for key in (paths.building / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    step("new SSH host keys for the board (emulated ssh-keygen)")
    _run(["chroot", str(paths.building), "ssh-keygen", "-A"], "ssh-keygen -A (emulated)", log,
         env={**os.environ, "QEMU_CPU": spec.qemu_cpu, "LC_ALL": "C"})
    os.replace(paths.building, paths.rootfs)


def _authorize(rootfs: Path, client_key_pub: str, spec: Board) -> None:
    """Key-only sshd config and edgebench's client key in root's authorized_keys."""
    conf = rootfs / "etc/ssh/sshd_config.d/edgebench.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(SSHD_CONFIG.format(cpu=spec.qemu_cpu))
    (rootfs / "etc/environment").write_text(f"QEMU_CPU={spec.qemu_cpu}\n")
    (rootfs / "etc/hostname").write_text(spec.hostname + "\n")
    ssh = rootfs / "root/.ssh"
    ssh.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = ssh / "authorized_keys"
    existing = keys.read_text().splitlines() if keys.exists() else []
    if client_key_pub.strip() not in existing:
        keys.write_text("\n".join([*existing, client_key_pub.strip()]) + "\n")
    keys.chmod(0o600)


def host_key(name: str) -> str:
    """The board's ed25519 host key (OpenSSH public form): pinned without asking, we built it."""
    path = Paths.of(name).rootfs / "etc/ssh/ssh_host_ed25519_key.pub"
    if not path.exists():
        raise EmulationError(f"the board {name} has no host key at {path}: rebuild it "
                             f"(edgebench targets emulate {name} --remove, then again)")
    return " ".join(path.read_text().split()[:2])


def _board_processes(rootfs: Path) -> list[int]:
    """Processes whose root directory is the board's root filesystem."""
    pids, want = [], str(rootfs.resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "root") == want:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def running(name: str) -> int | None:
    """The pid of the board's sshd, or None."""
    paths = Paths.of(name)
    try:
        pid = int(paths.pidfile.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _read_port(paths: Paths) -> int | None:
    try:
        return int((paths.root / "port").read_text())
    except (OSError, ValueError):
        return None


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start(name: str, port: int) -> int:
    """Start the board's sshd on 127.0.0.1:``port``; returns once it accepts connections."""
    _require_host()
    spec, paths = board(name), Paths.of(name)
    if not paths.built:
        raise EmulationError(f"the board {name} is not built: edgebench targets emulate {name}")
    ensure_binfmt()
    pid = running(name)
    if pid and _read_port(paths) == port:
        return pid
    if pid:
        stop(name)  # running on another port: move it
    if not _port_free(port):
        raise UserInputError(f"port {port} on 127.0.0.1 is in use: choose another with --port")
    paths.cpuinfo.write_text(spec.cpuinfo)
    log = open(paths.log, "ab")
    proc = subprocess.Popen(
        ["unshare", "--mount", "--uts", "--", "sh", "-c", START_SCRIPT, "sh", str(paths.rootfs),
         str(paths.cpuinfo), spec.hostname, spec.qemu_cpu, str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    paths.pidfile.write_text(str(proc.pid))
    (paths.root / "port").write_text(str(port))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = paths.log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
            raise EmulationError(f"the board's sshd exited ({proc.returncode}): {tail[0][:200]} "
                                 f"(log: {paths.log})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.settimeout(5)
                if s.recv(4).startswith(b"SSH-"):
                    return proc.pid
        except OSError:
            time.sleep(0.2)
    stop(name)
    raise EmulationError(f"the board's sshd did not answer on port {port} within "
                         f"{START_TIMEOUT_S:g} s (log: {paths.log})")


def stop(name: str) -> bool:
    """Stop the board: every process running in its root filesystem. True if one ran."""
    paths = Paths.of(name)
    pids = set(_board_processes(paths.rootfs))
    pid = running(name)
    if pid:
        pids.add(pid)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while _board_processes(paths.rootfs) and time.monotonic() < deadline:
        time.sleep(0.1)
    paths.pidfile.unlink(missing_ok=True)
    return bool(pids)


def _unmount_under(path: Path) -> None:
    """Unmount whatever debootstrap left mounted below ``path`` (deepest first)."""
    want = str(path.resolve())
    try:
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return
    for point in sorted((m for m in mounts if m == want or m.startswith(want + "/")),
                        key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def remove(name: str) -> bool:
    """Stop the board and delete its files. True if there was something to delete."""
    paths = Paths.of(name)
    stop(name)
    if not paths.root.exists():
        return False
    _unmount_under(paths.root)
    shutil.rmtree(paths.root)
    return True
