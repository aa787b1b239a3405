"""Where the agent runs. A Target moves files and executes an argv; what runs is the same
everywhere, so nothing above this package knows which transport carries it.

A Target can ``put`` a local file (its path on the target comes back), ``exec`` an argv
with stdin and a timeout (killing the whole process group at the timeout), and ``get`` a
file back. Each transport maps what it sees (a local signal, a lost connection) onto
``ExecResult.signal`` / ``ExecResult.lost``, so crash and timeout detection never assumes
a local negative return code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import EdgebenchError, first_line
from ..results import AgentReply, Stage, Status

# What the host keeps of an agent's output: a runaway runtime cannot fill the host's memory.
MAX_STDOUT_BYTES = 16 << 20
MAX_STDERR_BYTES = 64 << 10


class TargetError(EdgebenchError):
    """The target or the way to it failed: the cell's status and one-line reason.

    ``retryable`` is False for configuration problems (a host key that does not match):
    retrying cannot help and must not be done automatically.
    """

    def __init__(self, status: Status, message: str, retryable: bool = True):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class ExecResult:
    """How a remote or local command ended, in transport-neutral terms."""

    returncode: int | None  # None: it did not exit by itself (timeout, signal, lost)
    stdout: str
    stderr: str
    timed_out: bool = False
    signal: str | None = None  # it was ended by this signal (SIGSEGV, SIGKILL, ...)
    lost: str | None = None  # the transport failed: why (never a verdict on the model)
    status: Status = Status.INFRA_ERROR  # what a lost run is: infra_error, or unreachable


class Target(Protocol):
    name: str
    emulated: bool  # an emulated board: its timings are not speeds
    is_host: bool  # this machine (whatever its name): its files and Python are the host's

    def put(self, local_path: Path) -> str:
        """Make a local file available on the target; returns its target-side path.
        Content-addressed: an identical file is not sent twice; a partial one is never used."""

    def get(self, remote_path: str, local_path: Path) -> None:
        """Copy a target-side file to ``local_path``."""

    def scratch(self, name: str) -> str:
        """A fresh target-side path the agent may write a file to."""

    def exec(self, argv: list[str], stdin: str, timeout_s: float,
             on_start: Callable[[int], None] | None = None) -> ExecResult:
        """Run ``argv``; at ``timeout_s`` kill its whole process group."""

    def agent_argv(self, runtime: str | None = None) -> list[str]:
        """The command that starts ``edgebench.agent`` (for ``runtime``) on the target."""

    def close(self) -> None:
        """Remove what this session left on the target (scratch files)."""


def decode_output(data: bytes, limit: int) -> str:
    """Bytes a runtime wrote, as text: undecodable bytes replaced, only the last ``limit`` kept."""
    return data[-limit:].decode("utf-8", errors="replace")


def _last_line(text: str, limit: int | None = 300) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def run_agent(target: Target, job: dict, timeout_s: float,
              on_start: Callable[[int], None] | None = None) -> AgentReply:
    """Send one job to the agent on ``target``; a crash, timeout or lost link is a typed reply."""
    try:
        done = target.exec(target.agent_argv(job.get("runtime")), json.dumps(job), timeout_s,
                           on_start)
    except TargetError as e:
        return AgentReply(e.status, f"{target.name}: {e}", Stage.TRANSPORT)
    detail = _last_line(done.stderr)
    if done.timed_out:
        return AgentReply(Status.TIMEOUT, f"no result within {timeout_s:g} s: the agent was "
                          "killed (raise --timeout?)", Stage.RUN)
    if done.lost:
        return AgentReply(done.status, f"{target.name}: {done.lost}", Stage.TRANSPORT)
    if done.signal:
        return AgentReply(Status.CRASHED, f"the agent died from {done.signal}"
                          + (f": {detail}" if detail else ""), Stage.RUN, signal=done.signal)
    try:
        return AgentReply.from_dict(json.loads(_last_line(done.stdout, limit=None)))
    except (ValueError, TypeError, KeyError) as e:
        why = detail or (first_line(e) if done.stdout.strip() else "no output")
        return AgentReply(Status.CRASHED, f"the agent exited with status {done.returncode} and "
                          f"no result: {why}", Stage.RUN)


LOCAL = "local"  # the target name of this machine


def open_target(name: str) -> Target:
    """The target called ``name``: this machine (LOCAL) or a board from the profiles."""
    if name == LOCAL:
        from .local import LocalTarget

        return LocalTarget()
    from .profiles import get
    from .ssh import SSHTarget

    return SSHTarget(get(name))
