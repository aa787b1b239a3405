"""``edgebench sweep --cluster``: the Dask executor against the local one, lost workers,
boards without a worker, and the worker and status commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgebench.executors.cluster import WorkerSpec
from edgebench.results import Status
from edgebench.store import Store
from tests.helpers import assert_one_line_error, children

pytest.importorskip("distributed")


def _config(tmp_path: Path, name: str, targets: list[str], **extra) -> Path:
    lines = {"models": '["resnet18", "efficientnet_b0"]', "formats": '["onnx"]',
             "runtimes": '["onnxruntime", "openvino", "tflite"]', "resolution": "32",
             "warmup_runs": "1", "min_runs": "3", "min_seconds": "0.0",
             "targets": json.dumps(targets), "out": json.dumps(str(tmp_path.parent / "cluster-artifacts")),
             "store": json.dumps(str(tmp_path / f"{name}.db")), **extra}
    path = tmp_path / f"{name}.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in lines.items()))
    return path


def _cells(store_path: Path) -> dict[str, list]:
    """target -> sorted (kind, model, format, precision, runtime, status) of the latest attempts."""
    out: dict[str, list] = {}
    with Store(store_path) as store:
        for a in store.latest_attempts():
            r = a.record
            out.setdefault(getattr(r, "target", None) or "-", []).append(
                (r.KIND, r.model, r.format, r.precision, getattr(r, "runtime", None), a.status.value))
    return {t: sorted(v) for t, v in out.items()}


@pytest.mark.slow
def test_a_dask_sweep_gives_the_local_sweeps_cells_on_each_board(tmp_path, run_cli, in_process_cluster):
    code, _, err = run_cli("sweep", _config(tmp_path, "local", ["local"]))
    assert code == 0, err
    address = in_process_cluster({
        "exports": WorkerSpec("", export=True),
        "gateway-1": WorkerSpec("", boards=("fake1",), this_machine=True),
        "gateway-2": WorkerSpec("", boards=("fake2",), this_machine=True)})
    code, out, err = run_cli("sweep", _config(tmp_path, "dask", ["fake1", "fake2"]), "--cluster", address,
                             "--json")
    assert code == 0, err
    local, dask = _cells(tmp_path / "local.db"), _cells(tmp_path / "dask.db")
    assert dask["fake1"] == dask["fake2"] == local["local"]  # the same cells, the same statuses
    assert dask["-"] == local["-"]  # the exports (no target)
    assert {s for *_, s in local["local"]} == {"ok", "unsupported"}
    with Store(tmp_path / "local.db") as a, Store(tmp_path / "dask.db") as b:
        exports = lambda s: sorted(x.cell_key for x in s.latest_attempts() if x.record.KIND == "export")
        assert exports(a) == exports(b)
        assert all(x.n == 1 for x in b.attempts())  # nothing measured twice
    measured = json.loads(out)["measured"]
    latency = [r for r in measured if r["kind"] == "latency" and r["status"] == "ok"]
    assert latency and all(r["target"] in ("fake1", "fake2") for r in latency)
    code, out, _ = run_cli("sweep", _config(tmp_path, "dask", ["fake1", "fake2"]), "--cluster", address,
                           "--json")
    assert code == 0 and json.loads(out)["measured"] == []  # the store is the one truth


def test_a_board_without_a_worker_is_infra_error_after_the_timeout(tmp_path, run_cli,
                                                                     in_process_cluster):
    address = in_process_cluster({"one": WorkerSpec("", boards=("fake1",), export=True,
                                                    this_machine=True)})
    config = _config(tmp_path, "ghost", ["fake1", "ghost"], models='["resnet18"]',
                     runtimes='["onnxruntime"]', no_worker_timeout_s="1.0")
    started = time.monotonic()
    code, _, err = run_cli("sweep", config, "--cluster", address)
    assert code == 0, err
    assert time.monotonic() - started < 120
    cells = _cells(tmp_path / "ghost.db")
    assert [c[-1] for c in cells["fake1"]] == ["ok"]
    assert [c[-1] for c in cells["ghost"]] == ["infra_error"]
    with Store(tmp_path / "ghost.db") as store:
        (ghost,) = [a for a in store.latest_attempts() if getattr(a.record, "target", None) == "ghost"]
    assert ghost.reason.startswith("no worker for board ghost after 1 s") and ghost.n == 1


def test_an_unreachable_scheduler_is_one_line(tmp_path, run_cli):
    code, _, err = run_cli("sweep", _config(tmp_path, "x", ["fake1"]), "--cluster", "tcp://127.0.0.1:9")
    assert_one_line_error(code, err, "cannot reach the Dask scheduler at tcp://127.0.0.1:9", expected_code=1)


def test_a_worker_with_nothing_to_offer_is_one_line(run_cli):
    code, _, err = run_cli("cluster", "worker", "tcp://127.0.0.1:9")
    assert_one_line_error(code, err, "give --board NAME and/or --export", expected_code=2)


# ---- real processes on loopback -----------------------------------------------------------

def _spawn(*argv: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *argv], stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


class Loopback:
    """A scheduler and worker processes on 127.0.0.1 (each in its own process group)."""

    def __init__(self, tmp_path: Path):
        self.tmp_path, self.procs, self.scheduler = tmp_path, [], None
        self.address = self.start_scheduler()

    def start_scheduler(self) -> str:
        scheduler_file = self.tmp_path / f"scheduler-{len(self.procs)}.json"
        self.scheduler = _spawn("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file),
                                log=self.tmp_path / f"scheduler-{len(self.procs)}.log")
        self.procs.append(self.scheduler)
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.address = json.loads(scheduler_file.read_text())["address"]
        return self.address

    def worker(self, name: str, *flags: str) -> subprocess.Popen:
        proc = _spawn("edgebench", "cluster", "worker", self.address, "--name", name, *flags,
                      log=self.tmp_path / f"{name}-{len(self.procs)}.log")
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture
def loopback(tmp_path):
    cluster = Loopback(tmp_path)
    yield cluster
    cluster.close()


def _sweep(config: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "edgebench", "sweep", str(config), "--cluster",
                             address, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _status(address: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "edgebench", "cluster", "status", address, "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _wait_for_workers(address: str, count: int) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        info = _status(address)
        if len(info["workers"]) >= count:
            return info
        time.sleep(0.5)
    raise AssertionError(f"fewer than {count} workers joined: {info}")


def _stored(path: Path, kind: str) -> bool:
    """A cell of ``kind`` has ended with a verdict in the sweep's store."""
    if not path.exists():
        return False
    with Store(path) as store:
        return any(a.record.KIND == kind and a.status.is_verdict for a in store.attempts())


def _agents_below(pid: int) -> list[int]:
    """The ``edgebench.agent`` processes descended from ``pid``."""
    found, stack = [], [pid]
    while stack:
        for child in children(stack.pop()):
            stack.append(child)
            try:
                if b"edgebench.agent" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
            except OSError:
                pass
    return found


@pytest.mark.slow
def test_killing_a_worker_mid_sweep_loses_nothing_and_duplicates_nothing(tmp_path, loopback):
    address = loopback.address
    a = loopback.worker("gateway-a", "--board", "fake", "--this-machine", "--export")
    loopback.worker("gateway-b", "--board", "fake", "--this-machine")
    info = _wait_for_workers(address, 2)
    assert {tuple(w["boards"]) for w in info["workers"]} == {("fake",)}
    config = _config(tmp_path, "killed", ["fake"], models='["resnet18"]', min_seconds="3")
    sweep = _sweep(config, address)
    # Kill on an event, not after a time: the export is stored (so every agent from now on runs
    # a latency cell, which only the gateways can retry), then gateway-a's agent process exists.
    deadline = time.monotonic() + 300
    while not _stored(tmp_path / "killed.db", "export") and time.monotonic() < deadline \
            and sweep.poll() is None:
        time.sleep(0.05)
    victim = None
    while victim is None and time.monotonic() < deadline and sweep.poll() is None:
        victim = next(iter(_agents_below(a.pid)), None)
        time.sleep(0.01)
    assert victim, "gateway-a never ran a cell"
    loopback.kill(a)  # the gateway host dies, with the agent it was running
    out, err = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, err
    with Store(tmp_path / "killed.db") as store:
        attempts = store.attempts()
        latest = store.latest_attempts()
    assert all(a.status.is_verdict for a in latest)  # every cell ended
    keys = [a.cell_key for a in latest]
    assert len(keys) == len(set(keys))
    lost = [a for a in attempts if a.status == Status.INFRA_ERROR]
    assert lost and all("worker running it died" in a.reason for a in lost)
    for a in lost:  # retried as a new attempt of the same cell, which then measured once
        later = [b for b in attempts if b.cell_key == a.cell_key and b.n > a.n]
        assert [b.status for b in later] == [Status.OK]
    assert sum(a.status == Status.OK for a in attempts) == sum(a.status == Status.OK for a in latest)
    assert len(_status(address)["workers"]) == 1


@pytest.mark.slow
def test_killing_the_scheduler_loses_only_cells_in_flight(tmp_path, loopback):
    """The engine keeps nothing that matters: after the scheduler dies the sweep stops with a
    one-line error, and the same sweep on a new scheduler runs only what is missing."""
    loopback.worker("gateway", "--board", "fake", "--this-machine", "--export")
    _wait_for_workers(loopback.address, 1)
    config = _config(tmp_path, "lost", ["fake"], min_seconds="1.5")
    sweep = _sweep(config, loopback.address)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and sweep.poll() is None:
        if (tmp_path / "lost.db").exists():
            with Store(tmp_path / "lost.db") as store:
                if any(a.record.KIND == "latency" and a.status == Status.OK for a in store.attempts()):
                    break
        time.sleep(0.3)
    loopback.kill(loopback.scheduler)
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode != 0 and "Traceback" not in err, err
    assert "Dask scheduler" in err.strip().splitlines()[-1]
    with Store(tmp_path / "lost.db") as store:
        before = {a.cell_key for a in store.latest_attempts() if a.status == Status.OK}
    assert before  # what finished before the loss is in the store
    loopback.start_scheduler()
    loopback.worker("gateway-again", "--board", "fake", "--this-machine", "--export")
    _wait_for_workers(loopback.address, 1)
    again = _sweep(config, loopback.address)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    with Store(tmp_path / "lost.db") as store:
        latest = store.latest_attempts()
        oks = [a for a in store.attempts() if a.status == Status.OK]
    assert all(a.status.is_verdict for a in latest), [(a.status, a.reason) for a in latest]
    assert len(oks) == len({a.cell_key for a in oks})  # nothing measured twice
    assert not before & {r["key"] for r in json.loads(out)["measured"]}  # not measured again
