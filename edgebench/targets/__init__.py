"""Where the agent runs. A Target only executes a command; what runs is the same everywhere."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Callable, Protocol


@dataclass(frozen=True)
class ExecResult:
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


class Target(Protocol):
    name: str

    def exec(self, argv: list[str], stdin: str, timeout_s: float,
             on_start: Callable[[int], None] | None = None) -> ExecResult: ...

    def agent_argv(self) -> list[str]: ...


def _last_line(text: str, limit: int | None = 300) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def run_agent(target: Target, job: dict, timeout_s: float,
              on_start: Callable[[int], None] | None = None) -> dict:
    """Send one job to the agent on ``target``; a crash or timeout becomes a typed result."""
    done = target.exec(target.agent_argv(), json.dumps(job), timeout_s, on_start)
    base = {"runtime": job.get("runtime"), "settings": job.get("settings"), "target": target.name}
    if done.timed_out:
        return {**base, "status": "timeout",
                "reason": f"no result within {timeout_s:g} s: the agent was killed (raise --timeout?)"}
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        detail = _last_line(done.stderr)
        return {**base, "status": "crashed", "signal": name,
                "reason": f"the agent died from {name}" + (f": {detail}" if detail else "")}
    try:
        result = json.loads(_last_line(done.stdout, limit=None))
    except ValueError:
        detail = _last_line(done.stderr) or "no output"
        return {**base, "status": "crashed", "signal": None,
                "reason": f"the agent exited with status {done.returncode} and no result: {detail}"}
    return {**result, "target": target.name}
