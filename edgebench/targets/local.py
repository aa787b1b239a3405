"""This machine: the agent runs as a child process with its own process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Callable

from . import ExecResult


class LocalTarget:
    name = "local"

    def __init__(self, python: str = sys.executable):
        self.python = python

    def agent_argv(self) -> list[str]:
        return [self.python, "-m", "edgebench.agent"]

    def exec(self, argv: list[str], stdin: str, timeout_s: float,
             on_start: Callable[[int], None] | None = None) -> ExecResult:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        if on_start:
            on_start(proc.pid)
        try:
            out, err = proc.communicate(stdin, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the runtime may have spawned threads/children
            out, err = proc.communicate()
            return ExecResult(None, out, err)
        return ExecResult(proc.returncode, out, err)
