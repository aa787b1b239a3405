import os
import signal
import sys
import threading

from edgebench.agent import Job
from edgebench.harness import HarnessSettings
from edgebench.runtimes import ModelRef
from edgebench.targets import run_agent
from edgebench.targets.local import LocalTarget

NULL_FOREVER = Job(model=ModelRef(path=None, format="none", input_shape=(1, 4)), runtime="null",
                   harness=HarnessSettings(warmup_runs=0, min_runs=1, min_seconds=600,
                                           max_seconds=600)).to_dict()


def test_a_job_runs_in_a_child_process():
    job = {**NULL_FOREVER, "harness": HarnessSettings(warmup_runs=0, min_runs=5, min_seconds=0).to_dict()}
    pids = []
    r = run_agent(LocalTarget(), job, timeout_s=120, on_start=pids.append)
    assert r["status"] == "ok" and r["target"] == "local"
    assert pids and pids[0] != os.getpid()


def test_timeout_kills_the_agent_and_says_so():
    r = run_agent(LocalTarget(), NULL_FOREVER, timeout_s=3)
    assert r["status"] == "timeout" and "3 s" in r["reason"]


def test_a_crash_by_signal_is_recorded():
    def crash_soon(pid):
        threading.Timer(2.0, os.kill, (pid, signal.SIGSEGV)).start()

    r = run_agent(LocalTarget(), NULL_FOREVER, timeout_s=120, on_start=crash_soon)
    assert r["status"] == "crashed" and r["signal"] == "SIGSEGV"


class _ExitingTarget(LocalTarget):
    """A real process that dies without writing a result."""

    def agent_argv(self):
        return [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"]


def test_an_agent_that_exits_without_a_result():
    r = run_agent(_ExitingTarget(), NULL_FOREVER, timeout_s=60)
    assert r["status"] == "crashed" and "status 3" in r["reason"] and "boom" in r["reason"]
