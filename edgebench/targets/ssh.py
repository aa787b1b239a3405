"""A board over SSH (asyncssh): one kept-alive connection, content-addressed uploads, the agent
in its own process group on the board.

asyncssh is asynchronous; the Target protocol is not. One event loop runs in a daemon thread
for the life of the target and every call waits on it, so a sweep can later drive many
boards from one loop without changing this file.

Failures map onto cell statuses, never onto a verdict on the model: a refused or timed-out
connection is ``unreachable``; a refused login or a dropped connection is ``infra_error``
(the next call reconnects); a host key that does not match the pinned one is a
configuration error, remembered and never retried.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import threading
import uuid
from pathlib import Path
from typing import Callable

from ..errors import first_line, require
from ..files import sha256_file
from ..results import Status
from . import MAX_STDERR_BYTES, MAX_STDOUT_BYTES, ExecResult, TargetError, decode_output
from .bundle import agent_bundle
from .profiles import Profile, known_hosts_file, pinned_keys

CONNECT_TIMEOUT_S = 20.0
KEEPALIVE_S = 15.0
KEEPALIVE_MISSES = 3
PUT_ATTEMPTS = 3  # a dropped upload is retried on a fresh connection
FREE_MARGIN_BYTES = 16 << 20
PGID_PREFIX = b"edgebench-agent: pgid "


def asyncssh_module():
    """asyncssh, or a one-line error naming the extra that installs it."""
    return require("asyncssh", "ssh")


def host_key_fingerprint(key: str) -> str:
    """SHA256 fingerprint of an OpenSSH public key line, as ssh-keygen -l prints it."""
    return asyncssh_module().import_public_key(key).get_fingerprint("sha256")


def fetch_host_key(host: str, port: int, timeout_s: float = CONNECT_TIMEOUT_S) -> str:
    """The server's host key ("type base64"), fetched without logging in: to show and pin."""
    asyncssh = asyncssh_module()

    async def fetch():
        return await asyncio.wait_for(asyncssh.get_server_host_key(host, port), timeout_s)

    try:
        key = asyncio.run(fetch())
    except (OSError, asyncio.TimeoutError, asyncssh.Error) as e:
        raise _connect_error(host, port, e) from e
    if key is None:
        raise TargetError(Status.UNREACHABLE, f"{host}:{port} sent no host key")
    return key.export_public_key("openssh").decode().strip()


def _connect_error(host: str, port: int, e: BaseException) -> TargetError:
    asyncssh = asyncssh_module()
    where = f"{host}:{port}"
    if isinstance(e, asyncssh.HostKeyNotVerifiable):
        return TargetError(Status.UNREACHABLE, f"the host key of {where} does not match the key "
                           "pinned for it: if the board was reflashed, edgebench targets rekey "
                           "NAME; otherwise someone may be intercepting the connection",
                           retryable=False)
    if isinstance(e, asyncssh.PermissionDenied):
        return TargetError(Status.INFRA_ERROR, f"{where} refused the login ({first_line(e)}): "
                           "add your public key to the board's ~/.ssh/authorized_keys or give "
                           "the right one with --key")
    if isinstance(e, ConnectionRefusedError):
        return TargetError(Status.UNREACHABLE, f"connection refused by {where}: is the board on "
                           "and its SSH server running?")
    if isinstance(e, asyncio.TimeoutError):
        return TargetError(Status.UNREACHABLE, f"no answer from {where} within "
                           f"{CONNECT_TIMEOUT_S:g} s: is the board on this network?")
    return TargetError(Status.UNREACHABLE if isinstance(e, OSError) else Status.INFRA_ERROR,
                       f"cannot connect to {where}: {first_line(e)}")


def _lost(e: BaseException) -> bool:
    asyncssh = asyncssh_module()
    return isinstance(e, (OSError, EOFError, asyncssh.ConnectionLost, asyncssh.DisconnectError,
                          asyncssh.ChannelOpenError, asyncssh.SFTPConnectionLost,
                          asyncssh.SFTPEOFError, asyncssh.SFTPNoConnection))


class SSHTarget:
    """A board reached over SSH with the profile's user, key and pinned host key."""

    is_host = False

    def __init__(self, profile: Profile):
        asyncssh_module()  # a one-line error now if the extra is missing
        self.profile = profile
        self.name = profile.name
        self.emulated = profile.emulated
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"edgebench-ssh-{profile.name}")
        self._thread.start()
        self._conn = None
        self._sftp = None
        self._home: str | None = None
        self._fatal: TargetError | None = None
        self._present: set[str] = set()  # remote files verified during this session
        self._digests: dict[tuple, str] = {}
        self._scratch: str | None = None
        self.connects = 0  # how many connections this target opened (the tests read it)

    # --- plumbing --------------------------------------------------------------------------

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def _connect(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._conn is not None and not self._conn.is_closed():
            return
        asyncssh = asyncssh_module()
        p = self.profile
        if not pinned_keys(p):
            self._fatal = TargetError(
                Status.UNREACHABLE, f"no host key is pinned for {p.known_hosts_name()}: "
                f"edgebench targets rekey {p.name}", retryable=False)
            raise self._fatal
        options = {"known_hosts": str(known_hosts_file()), "connect_timeout": CONNECT_TIMEOUT_S,
                   "keepalive_interval": KEEPALIVE_S, "keepalive_count_max": KEEPALIVE_MISSES}
        if p.user:
            options["username"] = p.user
        if p.key:
            options["client_keys"] = [os.path.expanduser(p.key)]
            options["agent_path"] = None  # exactly the key the profile names
        try:
            self._conn = await asyncssh.connect(p.host, p.port, **options)
            self._sftp = await self._conn.start_sftp_client()
            self._home = await self._sftp.realpath(".")
        except (OSError, asyncio.TimeoutError, asyncssh.Error) as e:
            self._drop()
            error = _connect_error(p.host, p.port, e)
            if not error.retryable:
                self._fatal = error
            raise error from e
        self.connects += 1

    def _drop(self) -> None:
        """Forget the connection: the next call opens a new one."""
        if self._conn is not None:
            self._conn.abort()
        self._conn = self._sftp = None

    def _path(self, *parts: str) -> str:
        return "/".join([self._remote(self.profile.workdir), *parts])

    async def _run(self, argv: list[str], timeout_s: float = 60.0):
        return await self._conn.run(shlex.join(argv), check=False, timeout=timeout_s)

    # --- Target -----------------------------------------------------------------------------

    def _digest(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._digests:
            self._digests[key] = sha256_file(path)
        return self._digests[key]

    def put(self, local_path: Path) -> str:
        local_path = Path(local_path)
        return self._call(self._put(local_path, self._digest(local_path)))

    async def _put(self, local: Path, digest: str) -> str:
        error: BaseException | None = None
        for _ in range(PUT_ATTEMPTS):
            try:
                await self._connect()
                return await self._upload(local, digest)
            except TargetError:
                raise
            except Exception as e:
                if not _lost(e):
                    raise TargetError(Status.INFRA_ERROR, f"upload of {local.name} to "
                                      f"{self.name} failed: {first_line(e)}") from e
                error = e
                self._drop()
        raise TargetError(Status.INFRA_ERROR, f"the connection to {self.name} dropped during the "
                          f"upload of {local.name}, {PUT_ATTEMPTS} times: {first_line(error)}")

    async def _upload(self, local: Path, digest: str) -> str:
        folder = self._path("blobs", digest)
        remote = f"{folder}/{local.name}"
        if remote in self._present or await self._sftp.exists(remote):
            self._present.add(remote)
            return remote  # only a verified file ever has this name
        await self._sftp.makedirs(folder, exist_ok=True)
        for stale in await self._sftp.listdir(folder):
            if ".partial-" in stale:  # a broken earlier upload: never used, now removed
                await self._sftp.remove(f"{folder}/{stale}")
        size = local.stat().st_size
        free = await self._free_bytes(folder)
        if free is not None and free < size + FREE_MARGIN_BYTES:
            raise TargetError(Status.INFRA_ERROR, self._disk_full(local, size, free))
        partial = f"{remote}.partial-{uuid.uuid4().hex[:8]}"
        try:
            await self._sftp.put(str(local), partial)
        except asyncssh_module().SFTPFailure as e:
            free = await self._free_bytes(folder)
            if free is not None and free < size:
                raise TargetError(Status.INFRA_ERROR, self._disk_full(local, size, free)) from e
            raise
        done = await self._run(["sha256sum", "--", partial])
        got = (done.stdout or "").split()[:1]
        if done.exit_status != 0 or got != [digest]:
            await self._sftp.remove(partial)
            raise TargetError(Status.INFRA_ERROR, f"{local.name} arrived on {self.name} with a "
                              "different sha256: the upload was corrupted (run again)")
        await self._sftp.posix_rename(partial, remote)
        self._present.add(remote)
        return remote

    async def _free_bytes(self, folder: str) -> int | None:
        try:
            st = await self._sftp.statvfs(folder)
        except asyncssh_module().SFTPError:
            return None  # the server has no statvfs extension
        return st.bavail * st.frsize

    def _disk_full(self, local: Path, size: int, free: int) -> str:
        return (f"the disk of {self.name} is full: {local.name} needs {size / 2**20:.1f} MB, "
                f"{free / 2**20:.1f} MB free in {self._path()}: free space on the board")

    def get(self, remote_path: str, local_path: Path) -> None:
        async def get():
            await self._connect()
            partial = Path(f"{local_path}.partial-{os.getpid()}")
            await self._sftp.get(remote_path, str(partial))
            os.replace(partial, local_path)

        try:
            self._call(get())
        except TargetError:
            raise
        except Exception as e:
            if _lost(e):
                self._drop()
            raise TargetError(Status.INFRA_ERROR, f"cannot fetch {remote_path} from "
                              f"{self.name}: {first_line(e)}") from e

    def scratch(self, name: str) -> str:
        async def make():
            await self._connect()
            if self._scratch is None:
                self._scratch = self._path("scratch", uuid.uuid4().hex)
            folder = f"{self._scratch}/{uuid.uuid4().hex[:12]}"
            await self._sftp.makedirs(folder, exist_ok=True)
            return f"{folder}/{name}"

        try:
            return self._call(make())
        except TargetError:
            raise
        except Exception as e:
            self._drop()
            raise TargetError(Status.INFRA_ERROR, f"cannot make a scratch folder on "
                              f"{self.name}: {first_line(e)}") from e

    def agent_argv(self, runtime: str | None = None) -> list[str]:
        if runtime and "==" in runtime and runtime not in self.profile.venvs:
            raise TargetError(Status.LOAD_FAILED, f"{runtime} is not set up on {self.name}: "
                              f"edgebench targets bootstrap {self.name} --runtimes {runtime}",
                              retryable=False)
        bundle = self.put(agent_bundle())
        python = self.profile.python(runtime)
        self._call(self._require_environment(python))
        return ["env", f"PYTHONPATH={bundle}", python, "-m", "edgebench.agent", "--report-pgid",
                "--install-hint", f"edgebench targets bootstrap {self.name} --runtimes "
                f"{runtime or 'RUNTIME'}"]

    def exec(self, argv: list[str], stdin: str, timeout_s: float,
             on_start: Callable[[int], None] | None = None) -> ExecResult:
        return self._call(self._exec(argv, stdin, timeout_s, on_start))

    async def _exec(self, argv, stdin, timeout_s, on_start) -> ExecResult:
        try:
            await self._connect()
            proc = await self._conn.create_process(shlex.join(argv), encoding=None)
        except TargetError as e:
            return ExecResult(None, "", "", lost=str(e), status=e.status)
        except Exception as e:
            if not _lost(e):
                raise
            self._drop()
            return ExecResult(None, "", "", lost=f"the connection dropped: {first_line(e)}")
        pgid: list[int] = []

        async def errors() -> bytes:
            kept = bytearray()
            async for line in proc.stderr:
                if not pgid and line.startswith(PGID_PREFIX):
                    pgid.append(int(line[len(PGID_PREFIX):]))
                    if on_start:
                        on_start(pgid[0])
                    continue
                kept += line
                del kept[:-MAX_STDERR_BYTES]
            return bytes(kept)

        out_task = asyncio.ensure_future(proc.stdout.read())
        err_task = asyncio.ensure_future(errors())
        try:
            proc.stdin.write(stdin.encode())
            proc.stdin.write_eof()
            out, err, _ = await asyncio.wait_for(
                asyncio.gather(out_task, err_task, proc.wait_closed()), timeout_s)
        except asyncio.TimeoutError:
            await self._kill(pgid)
            proc.close()
            return ExecResult(None, "", "", timed_out=True)
        except Exception as e:
            out_task.cancel()
            err_task.cancel()
            if not _lost(e):
                raise
            self._drop()
            return ExecResult(None, "", "", lost=f"the connection dropped during the run: "
                              f"{first_line(e)}")
        if proc.exit_signal:
            name = proc.exit_signal[0]
            return ExecResult(None, decode_output(out, MAX_STDOUT_BYTES),
                              decode_output(err, MAX_STDERR_BYTES),
                              signal=name if name.startswith("SIG") else f"SIG{name}")
        if proc.exit_status is None or proc.exit_status < 0:
            self._drop()
            return ExecResult(None, decode_output(out, MAX_STDOUT_BYTES), "",
                              lost="the connection closed before the command's exit status came")
        return ExecResult(proc.exit_status, decode_output(out, MAX_STDOUT_BYTES),
                          decode_output(err, MAX_STDERR_BYTES))

    async def _require_environment(self, python: str) -> None:
        """The board has the venv the agent needs, or a one-line reason naming bootstrap."""
        if python in self._present:
            return
        await self._connect()
        try:
            found = await self._sftp.exists(self._remote(python))
        except Exception as e:
            if not _lost(e):
                raise
            self._drop()
            raise TargetError(Status.INFRA_ERROR, f"the connection to {self.name} dropped: "
                              f"{first_line(e)}") from e
        if not found:
            raise TargetError(Status.INFRA_ERROR, f"no edgebench environment at {python}: "
                              f"edgebench targets bootstrap {self.name}")
        self._present.add(python)

    async def _kill(self, pgid: list[int]) -> None:
        """Kill the agent's whole process group on the board (closing a channel does not)."""
        if not pgid:
            return
        try:
            await self._run(["kill", "-KILL", "--", f"-{pgid[0]}"], timeout_s=15)
        except Exception as e:
            if not _lost(e):
                raise
            self._drop()

    def _remote(self, path: str) -> str:
        """A board path: absolute as given, else relative to the login's home."""
        return path if path.startswith("/") else f"{self._home or '.'}/{path}"

    def run_command(self, argv: list[str], timeout_s: float = 600.0) -> ExecResult:
        """A plain command on the board (probes, bootstrap): its exit status and output."""
        async def run():
            await self._connect()
            done = await self._run(argv, timeout_s)
            sig = done.exit_signal[0] if done.exit_signal else None
            return ExecResult(done.exit_status if done.exit_status is not None and
                              done.exit_status >= 0 else None,
                              done.stdout or "", done.stderr or "",
                              signal=f"SIG{sig}" if sig else None)

        try:
            return self._call(run())
        except TargetError:
            raise
        except Exception as e:
            if isinstance(e, asyncssh_module().TimeoutError):
                raise TargetError(Status.TIMEOUT, f"{shlex.join(argv[:3])} on {self.name} took "
                                  f"over {timeout_s:g} s") from e
            if not _lost(e):
                raise
            self._drop()
            raise TargetError(Status.INFRA_ERROR, f"the connection to {self.name} dropped: "
                              f"{first_line(e)}") from e

    def home(self) -> str:
        """The login's home folder on the board."""
        self._call(self._connect())
        return self._home

    def close(self) -> None:
        async def close():
            if self._scratch and self._conn is not None and not self._conn.is_closed():
                try:
                    await self._run(["rm", "-rf", "--", self._scratch], timeout_s=30)
                except Exception:  # best effort: a gone board keeps its scratch files
                    pass
            self._scratch = None
            if self._conn is not None:
                self._conn.close()
                await self._conn.wait_closed()
            self._conn = self._sftp = None

        if self._loop.is_closed():
            return
        try:
            self._call(close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    def __enter__(self) -> "SSHTarget":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
