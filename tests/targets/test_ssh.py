"""The SSH target against a real OpenSSH server: profiles, pinned host keys, content-addressed
uploads, the agent over SSH, and the transport faults a board meets (drops, stalls, bad keys)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from edgebench.agent import Job
from edgebench.bench import BenchRequest, Cell, agent_model, resolve, run
from edgebench.harness import HarnessSettings
from edgebench.results import Status
from edgebench.runtimes import RuntimeSettings
from edgebench.targets import TargetError, profiles, run_agent
from edgebench.targets.ssh import SSHTarget

from .conftest import free_port, processes

QUICK = HarnessSettings(warmup_runs=1, min_runs=3, min_seconds=0.0, max_seconds=30.0)
SLOW = HarnessSettings(warmup_runs=1, min_runs=10**6, min_seconds=60, max_seconds=120)


def _slow_job(target, artifact) -> dict:
    """A latency job that runs for a minute: long enough to kill, reboot or time out."""
    cell = Cell(resolve(str(artifact)), "onnxruntime", RuntimeSettings())
    return Job(model=agent_model(cell, target), runtime="onnxruntime", harness=SLOW).to_dict()


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_add_list_check_rekey_remove(host_board, run_cli):
    code, _, err = run_cli("targets", "add", "b1", "--host", "127.0.0.1", "--port",
                           host_board.port, "--user", "root", "--key", host_board.client_key)
    assert code == 2 and "--accept-new-host-key" in _one_line(err.splitlines()[-1])
    assert "b1" not in profiles.load()  # nothing pinned without confirmation

    code, out, err = run_cli("targets", "add", "b1", "--host", "127.0.0.1", "--port",
                             host_board.port, "--user", "root", "--key", host_board.client_key,
                             "--accept-new-host-key", "--json")
    assert code == 0, err
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(host_board.host_key) + ".pub"],
                                 capture_output=True, text=True).stdout.split()[1]
    assert fingerprint in err  # the fingerprint the user confirms is the server's own
    assert json.loads(out)["port"] == host_board.port
    profiles.update("b1", workdir=str(host_board.workdir))

    code, out, _ = run_cli("targets", "list", "--json")
    (listed,) = [r for r in json.loads(out) if r["name"] == "b1"]
    assert listed["host"] == "127.0.0.1" and listed["user"] == "root"
    code, out, err = run_cli("targets", "check", "b1", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["reachable"] and info["arch"] == os.uname().machine
    assert info["versions"]["onnxruntime"] and info["disk_free_mb"] > 0
    assert info["throttle_flags"] is None  # no Pi firmware here: unknown, not an error
    code, out, _ = run_cli("targets", "check", "b1")
    assert "throttling: unknown" in out and "SoC temperature" in out

    code, _, err = run_cli("targets", "rekey", "b1", "--accept-new-host-key")
    assert code == 0 and fingerprint in err
    code, _, _ = run_cli("targets", "remove", "b1")
    assert code == 0 and "b1" not in profiles.load()
    assert f"[127.0.0.1]:{host_board.port}" not in profiles.known_hosts_file().read_text()


@pytest.mark.parametrize("args, needle", [
    (("targets", "add", "local", "--host", "x"), "this machine's target name"),
    (("targets", "add", "a b", "--host", "x"), "not valid"),
    (("targets", "add", "ok", "--host", "x", "--port", "70000"), "not a TCP port"),
    (("targets", "remove", "nope"), "unknown target"),
    (("bench", "x.onnx", "--target", "nope"), "unknown target"),
    (("targets", "bootstrap", "x", "--runtimes", "tensorrt"), "unknown runtime"),
])
def test_bad_target_input_is_one_line(run_cli, args, needle):
    code, _, err = run_cli(*args)
    assert code == 2 and needle in _one_line(err)


def test_uploads_are_content_addressed_and_verified(host_board, tmp_path):
    profile = host_board.add("cas")
    data = tmp_path / "blob.bin"
    data.write_bytes(os.urandom(3 << 20))
    with SSHTarget(profile) as target:
        remote = target.put(data)
        first = os.stat(remote).st_mtime_ns
        assert Path(remote).read_bytes() == data.read_bytes()
        assert target.put(data) == remote
    with SSHTarget(profile) as target:  # a new session finds it: no second upload
        assert target.put(data) == remote
    assert os.stat(remote).st_mtime_ns == first
    assert not [p for p in Path(remote).parent.iterdir() if ".partial-" in p.name]


def test_bench_over_ssh_is_the_local_result_type(host_board, small_artifacts):
    host_board.add("hb")
    from edgebench.targets import open_target

    with open_target("hb") as target:
        assert not target.is_host  # a board, even one on this machine's loopback
        cells = run(BenchRequest(artifacts=(str(small_artifacts["onnx"]),), runtime="onnxruntime",
                                 harness=QUICK), target)
    (cell,) = cells
    assert cell.status == Status.OK and cell.target == "hb", cell.reason
    assert cell.fingerprint["arch"] == os.uname().machine and cell.latency.runs >= 3
    assert cell.tools["onnxruntime"]


# --- faults ---------------------------------------------------------------------------------

def _bench_one(profile, artifact) -> object:
    with SSHTarget(profile) as target:
        (cell,) = run(BenchRequest(artifacts=(str(artifact),), runtime="onnxruntime",
                                   harness=QUICK), target)
    return cell


def test_connection_refused_is_unreachable(host_board, small_artifacts, run_cli):
    profile = host_board.add("refused", port=free_port())
    cell = _bench_one(profile, small_artifacts["onnx"])
    assert cell.status == Status.UNREACHABLE and "connection refused" in cell.reason
    code, _, err = run_cli("targets", "check", "refused")
    assert code != 0 and "connection refused" in _one_line(err)
    code, out, _ = run_cli("targets", "check", "refused", "--json")
    answer = json.loads(out)
    assert code != 0 and answer["reachable"] is False and answer["status"] == "unreachable"


def test_a_wrong_key_is_an_infra_error_naming_the_fix(host_board, small_artifacts, tmp_path):
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    cell = _bench_one(host_board.add("wrongkey", key=str(other)), small_artifacts["onnx"])
    assert cell.status == Status.INFRA_ERROR and "refused the login" in cell.reason
    assert "authorized_keys" in cell.reason


def test_a_changed_host_key_is_refused_and_never_retried(host_board, small_artifacts, tmp_path):
    profile = host_board.add("mitm")
    impostor = tmp_path / "impostor"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(impostor)], check=True)
    profiles.pin_host_key(profile, (tmp_path / "impostor.pub").read_text())
    with SSHTarget(profile) as target:
        cells = run(BenchRequest(artifacts=(str(small_artifacts["onnx"]),) * 2,
                                 runtime="onnxruntime", harness=QUICK), target)
        assert target.connects == 0
    assert [c.status for c in cells] == [Status.UNREACHABLE] * 2
    assert all("does not match" in c.reason and "targets rekey" in c.reason for c in cells)


class _CuttingProxy:
    """A loopback TCP proxy that drops its first connection after ``cut_after`` bytes from
    the client: an upload broken in the middle, for real."""

    def __init__(self, port: int, cut_after: int):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port, self.target, self.cut_after, self.connections = \
            self.server.getsockname()[1], port, cut_after, 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target))
            limit = self.cut_after if self.connections == 1 else None
            threading.Thread(target=self._pipe, args=(client, upstream, limit), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pipe(src, dst, limit):
        sent = 0
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                sent += len(data)
                if limit is not None and sent > limit:
                    break
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.server.close()


def test_an_upload_dropped_midway_is_retried_cleanly(host_board, tmp_path):
    proxy = _CuttingProxy(host_board.port, cut_after=2 << 20)
    try:
        profile = host_board.add("flaky", port=proxy.port)
        profiles.pin_host_key(profile, host_board.host_key.with_suffix(".pub").read_text())
        data = tmp_path / "big.bin"
        data.write_bytes(os.urandom(8 << 20))
        with SSHTarget(profile) as target:
            remote = target.put(data)
            assert target.connects == 2  # the first connection died mid-upload
        assert Path(remote).read_bytes() == data.read_bytes()
        assert not [p for p in Path(remote).parent.iterdir() if ".partial-" in p.name]
    finally:
        proxy.close()


@pytest.mark.parametrize("name", ["SFTPNoConnection", "SFTPConnectionLost", "ConnectionLost"])
def test_every_form_of_a_dropped_connection_is_retried(name):
    # which one asyncssh raises depends on where in a write the socket died
    import asyncssh
    from edgebench.targets.ssh import _lost
    assert _lost(getattr(asyncssh, name)("Connection not open"))
    assert not _lost(asyncssh.SFTPPermissionDenied("denied"))


def test_a_full_disk_is_a_one_line_infra_error(host_board, small_artifacts, tmp_path):
    small = tmp_path / "small-disk"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], check=True)
    try:
        (small / "venv").symlink_to(host_board.workdir / "venv")
        cell = _bench_one(host_board.add("full", workdir=str(small)), small_artifacts["onnx"])
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
    assert cell.status == Status.INFRA_ERROR and "disk of full is full" in cell.reason
    assert "\n" not in cell.reason


def test_a_killed_agent_is_crashed_and_the_next_cell_runs(host_board, small_artifacts):
    profile = host_board.add("killed")
    with SSHTarget(profile) as target:
        job = _slow_job(target, small_artifacts["onnx"])

        def kill_soon(pgid):  # someone on the board kills the agent's whole group
            threading.Timer(3.0, os.killpg, (pgid, signal.SIGKILL)).start()

        reply = run_agent(target, job, 120, on_start=kill_soon)
        assert reply.status == Status.CRASHED and reply.signal == "SIGKILL", reply.reason
        (after,) = run(BenchRequest(artifacts=(str(small_artifacts["onnx"]),),
                                    runtime="onnxruntime", harness=QUICK), target)
        assert after.status == Status.OK, after.reason


def test_a_timeout_kills_the_group_on_the_board(host_board, small_artifacts):
    profile = host_board.add("slow")
    pgids = []
    with SSHTarget(profile) as target:
        job = _slow_job(target, small_artifacts["onnx"])
        reply = run_agent(target, job, 5, on_start=pgids.append)
    assert reply.status == Status.TIMEOUT
    deadline = time.monotonic() + 10  # killed: gone once its parent reaps it
    while _group_alive(pgids[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group_alive(pgids[0])


def _group_alive(pgid: int) -> bool:
    """Any process of the group that is not a zombie."""
    return any(group == pgid and state != "Z" for _, state, _, group in processes())


def test_a_reboot_between_cells_is_infra_error_then_reconnects(host_board, small_artifacts):
    profile = host_board.add("reboot")
    with SSHTarget(profile) as target:
        job = _slow_job(target, small_artifacts["onnx"])
        reboot = threading.Timer(3.0, host_board.restart)
        reboot.start()
        reply = run_agent(target, job, 120)
        reboot.join()
        assert reply.status == Status.INFRA_ERROR and "dropped" in reply.reason, reply.reason
        (after,) = run(BenchRequest(artifacts=(str(small_artifacts["onnx"]),),
                                    runtime="onnxruntime", harness=QUICK), target)
        assert after.status == Status.OK, after.reason
        assert target.connects == 2


def test_a_board_without_an_environment_says_bootstrap(host_board, small_artifacts, tmp_path):
    cell = _bench_one(host_board.add("bare", workdir=str(tmp_path)), small_artifacts["onnx"])
    assert cell.status == Status.INFRA_ERROR and "targets bootstrap bare" in cell.reason


def test_fetching_a_host_key_from_nothing_is_one_line(run_cli):
    code, _, err = run_cli("targets", "add", "ghost", "--host", "127.0.0.1", "--port",
                           free_port(), "--accept-new-host-key")
    assert code != 0 and "connection refused" in _one_line(err)
    with pytest.raises(TargetError):
        from edgebench.targets.ssh import fetch_host_key
        fetch_host_key("127.0.0.1", free_port())


@pytest.fixture(scope="module")
def trained_onnx(fm_exports, fm_checkpoint):
    """The session's Fashion-MNIST ResNet-18 in ONNX FP32 (the session's export set)."""
    return fm_exports.path("onnx-fp32"), fm_checkpoint


def test_eval_over_ssh_scores_what_local_eval_scores(host_board, trained_onnx):
    from edgebench.evaluate import EvalRequest, run as evaluate
    from edgebench.targets import open_target

    host_board.add("hbeval")
    artifact, checkpoint = trained_onnx
    request = EvalRequest(artifacts=(str(artifact),), dataset="fashion-mnist:test:200",
                          weights=str(checkpoint))
    with open_target("hbeval") as remote, open_target("local") as local:
        (theirs,), (ours,) = evaluate(request, remote), evaluate(request, local)
    assert theirs.status == ours.status == Status.OK, theirs.reason
    assert theirs.target == "hbeval" and type(theirs) is type(ours)
    assert (theirs.top1, theirs.top5, theirs.per_class) == (ours.top1, ours.top5, ours.per_class)
    assert theirs.reference_top1 == ours.reference_top1  # PyTorch on the host for both
    assert theirs.fingerprint["versions"]["onnxruntime"] and theirs.key != ours.key


def test_a_sweep_over_two_targets_runs_them_side_by_side(host_board, tmp_path, run_cli):
    from edgebench.store import Store

    host_board.add("hbsweep")
    config = tmp_path / "sweep.toml"
    config.write_text('models = ["resnet18"]\nformats = ["onnx"]\nruntimes = ["onnxruntime"]\n'
                      'targets = ["local", "hbsweep"]\nresolution = 32\nwarmup_runs = 1\n'
                      f'min_runs = 3\nmin_seconds = 0.0\nout = "{tmp_path / "art"}"\n')
    code, out, err = run_cli("sweep", config, "--store", tmp_path / "s.db", "--json")
    assert code == 0, err
    with Store(tmp_path / "s.db") as store:
        cells = {a.record.target: a for a in store.latest_attempts() if a.record.KIND == "latency"}
    assert set(cells) == {"local", "hbsweep"}
    assert all(a.status == Status.OK for a in cells.values())
    assert cells["local"].cell_key != cells["hbsweep"].cell_key
    assert cells["hbsweep"].record.fingerprint["hostname"]
