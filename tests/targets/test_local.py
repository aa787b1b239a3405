"""The local target: files, processes, process groups, and how endings are mapped."""

import json
import os
import signal
import subprocess
import sys
import threading
import time


from edgebench.agent import Job
from edgebench.harness import HarnessSettings
from edgebench.results import Stage, Status
from edgebench.runtimes import ModelRef
from edgebench.targets import decode_output, run_agent
from edgebench.targets.local import LocalTarget
from tests.helpers import alive

NULL_FOREVER = Job(model=ModelRef(path=None, format="none", input_shape=(1, 4)), runtime="null",
                   harness=HarnessSettings(warmup_runs=0, min_runs=1, min_seconds=600,
                                           max_seconds=600)).to_dict()


def test_this_machine_is_the_host_under_any_name():
    from edgebench.targets import LOCAL, open_target

    with open_target(LOCAL) as here:
        assert here.is_host and here.name == LOCAL
    assert LocalTarget(name="board-a").is_host  # a cluster's stand-in board: still this machine


def test_a_job_runs_in_its_own_process_group_and_is_gone_after():
    job = {**NULL_FOREVER, "harness": HarnessSettings(warmup_runs=0, min_runs=5, min_seconds=0).to_dict()}
    seen = {}

    def on_start(pid):
        seen["pid"], seen["pgid"] = pid, os.getpgid(pid)

    r = run_agent(LocalTarget(), job, timeout_s=120, on_start=on_start)
    assert r.status == Status.OK and r.latency.runs >= 5
    assert seen["pgid"] == seen["pid"] != os.getpgid(0)  # a group of its own: killable as one
    assert not alive(seen["pid"])


def test_timeout_kills_the_whole_process_group(tmp_path):
    """The agent and a grandchild it started are both gone after the timeout."""
    marker = tmp_path / "grandchild.pid"

    class SpawningTarget(LocalTarget):
        def agent_argv(self, runtime=None):
            code = ("import subprocess, sys, time\n"
                    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
                    f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
                    "time.sleep(600)")
            return [sys.executable, "-c", code]

    started = time.monotonic()
    r = run_agent(SpawningTarget(), NULL_FOREVER, timeout_s=3)
    assert r.status == Status.TIMEOUT and "3 s" in r.reason and r.stage == Stage.RUN
    assert time.monotonic() - started < 60
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 10
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(grandchild)


def test_a_crash_by_signal_is_recorded():
    def crash_soon(pid):
        threading.Timer(2.0, os.kill, (pid, signal.SIGSEGV)).start()

    r = run_agent(LocalTarget(), NULL_FOREVER, timeout_s=120, on_start=crash_soon)
    assert r.status == Status.CRASHED and r.signal == "SIGSEGV" and "SIGSEGV" in r.reason
    assert not r.status.is_verdict  # a crash is worth a retry, a load failure is not


class _ExitingTarget(LocalTarget):
    """A real process that dies without writing a result."""

    def agent_argv(self, runtime=None):
        return [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"]


def test_an_agent_that_exits_without_a_result():
    r = run_agent(_ExitingTarget(), NULL_FOREVER, timeout_s=60)
    assert r.status == Status.CRASHED and "status 3" in r.reason and "boom" in r.reason


class _MissingPython(LocalTarget):
    def agent_argv(self, runtime=None):
        return ["/nonexistent/python", "-m", "edgebench.agent"]


def test_an_agent_that_cannot_start_is_an_infra_error():
    r = run_agent(_MissingPython(), NULL_FOREVER, timeout_s=60)
    assert r.status == Status.INFRA_ERROR and r.stage == Stage.TRANSPORT
    assert "cannot start" in r.reason


def test_undecodable_output_is_read_with_replacement():
    class BinaryTarget(LocalTarget):
        def agent_argv(self, runtime=None):
            code = "import sys; sys.stdout.buffer.write(b'\\xff\\xfe' * 10); sys.stderr.buffer.write(b'\\x80bad')"
            return [sys.executable, "-c", code]

    r = run_agent(BinaryTarget(), NULL_FOREVER, timeout_s=60)
    assert r.status == Status.CRASHED and "\ufffdbad" in r.reason
    assert decode_output(b"a" * 100 + b"\xff", limit=10) == "a" * 9 + "\ufffd"


def test_put_get_and_scratch(tmp_path):
    src = tmp_path / "model.onnx"
    src.write_bytes(b"bytes")
    with LocalTarget() as target:
        assert target.put(src) == str(src.resolve())  # local: the file's own path
        scratch = target.scratch("out.npy")
        assert not os.path.exists(scratch) and os.path.isdir(os.path.dirname(scratch))
        assert target.scratch("out.npy") != scratch  # fresh each time
        with open(scratch, "wb") as f:
            f.write(b"result")
        target.get(scratch, tmp_path / "back.npy")
        assert (tmp_path / "back.npy").read_bytes() == b"result"
        root = os.path.dirname(os.path.dirname(scratch))
    assert not os.path.exists(root)  # close() removes what the session left


def test_the_host_interrupted_takes_the_agent_with_it(tmp_path):
    """Ctrl-C while a host waits for the agent ends the agent's whole group too."""
    pid_file = tmp_path / "agent.pid"
    code = ("import json, sys\n"
            "from edgebench.targets import run_agent\n"
            "from edgebench.targets.local import LocalTarget\n"
            "job = json.loads(sys.argv[1])\n"
            "try:\n"
            f"    run_agent(LocalTarget(), job, 120, lambda pid: open({str(pid_file)!r}, 'w').write(str(pid)))\n"
            "except KeyboardInterrupt:\n"
            "    sys.exit(130)\n")
    host = subprocess.Popen([sys.executable, "-c", code, json.dumps(NULL_FOREVER)])
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    agent = int(pid_file.read_text())
    assert alive(agent)
    host.send_signal(signal.SIGINT)
    assert host.wait(timeout=60) == 130
    time.sleep(0.2)
    assert not alive(agent)


def test_peak_memory_is_the_agents_own_not_its_parents():
    """Linux carries ru_maxrss across fork and exec: a sweep holding torch and exported models
    made every agent report the sweep's own 2.6 GB."""
    ballast = bytearray(600 << 20)  # a parent at least 600 MB large, every page touched
    ballast[::4096] = b"x" * len(ballast[::4096])
    job = {**NULL_FOREVER, "harness": HarnessSettings(warmup_runs=0, min_runs=3, min_seconds=0).to_dict()}
    r = run_agent(LocalTarget(), job, timeout_s=120)
    assert r.status == Status.OK and 10 < r.peak_rss_mb < 400, r.peak_rss_mb
    del ballast
