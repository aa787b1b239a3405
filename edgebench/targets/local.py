"""This machine: the agent runs as a child process in its own process group."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from ..agent import HOST_PID_ENV
from ..results import Status
from . import LOCAL, MAX_STDERR_BYTES, MAX_STDOUT_BYTES, ExecResult, TargetError, decode_output


class LocalTarget:
    """Files stay where they are (``put`` returns the file's own path)."""

    emulated = False
    is_host = True

    def __init__(self, python: str = sys.executable, name: str = LOCAL):
        self.python = python
        self.name = name  # another name: a cluster's fake board, measured on this machine
        self._scratch: str | None = None

    def agent_argv(self, runtime: str | None = None) -> list[str]:
        """This Python, or a pinned runtime's own environment running the sources zip."""
        from ..errors import UserInputError
        from ..formats import parse_runtime

        try:
            choice = parse_runtime(runtime) if runtime else None
        except UserInputError:
            choice = None  # the agent's own reply names the problem
        if choice is None or not choice.version:
            return [self.python, "-m", "edgebench.agent"]
        from .bundle import agent_bundle
        from ..envs import env_python, is_ready

        if not is_ready(choice):
            raise TargetError(Status.LOAD_FAILED, f"{choice.spec} is not set up on this machine: "
                              f"edgebench targets bootstrap local --runtimes {choice.spec}",
                              retryable=False)
        return ["env", f"PYTHONPATH={agent_bundle()}", str(env_python(choice)), "-m", "edgebench.agent"]

    def put(self, local_path: Path) -> str:
        return str(Path(local_path).resolve())

    def get(self, remote_path: str, local_path: Path) -> None:
        if Path(remote_path).resolve() != Path(local_path).resolve():
            shutil.copyfile(remote_path, local_path)

    def scratch(self, name: str) -> str:
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="edgebench-agent-")
        return tempfile.mkdtemp(dir=self._scratch) + os.sep + name

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> "LocalTarget":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def exec(self, argv: list[str], stdin: str, timeout_s: float,
             on_start: Callable[[int], None] | None = None) -> ExecResult:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True,
                                    env={**os.environ, HOST_PID_ENV: str(os.getpid())})
        except OSError as e:
            return ExecResult(None, "", "", lost=f"cannot start {argv[0]}: {e.strerror or e}")
        if on_start:
            on_start(proc.pid)
        timed_out = False
        try:
            try:
                out, err = proc.communicate(stdin.encode(), timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc.pid)  # the runtime may have spawned threads and children
                out, err = proc.communicate()
        except BaseException:  # Ctrl-C, SIGTERM: the agent's whole group goes with us
            _kill_group(proc.pid)
            proc.wait()
            raise
        code = proc.returncode
        sig = signal.Signals(-code).name if code < 0 and not timed_out else None
        return ExecResult(None if code < 0 or timed_out else code,
                          decode_output(out, MAX_STDOUT_BYTES), decode_output(err, MAX_STDERR_BYTES),
                          timed_out=timed_out, signal=sig)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
