import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from edgebench.cli import cli


@pytest.fixture
def run_cli():
    """The CLI in-process: returns (exit_code, stdout, stderr)."""

    def run(*args):
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def run_subprocess():
    """The CLI as a user runs it: a new process."""

    def run(*args, env=None, cwd=None):
        proc = subprocess.run([sys.executable, "-m", "edgebench", *map(str, args)],
                              capture_output=True, text=True, env={**os.environ, **(env or {})},
                              cwd=cwd, timeout=600)
        return proc.returncode, proc.stdout, proc.stderr

    return run


@pytest.fixture(scope="session")
def small_artifacts(tmp_path_factory):
    """A 64-px ResNet-18 exported once to every format: {format: artifact folder}."""
    from edgebench.export import ExportRequest, run

    out = tmp_path_factory.mktemp("artifacts")
    results = run(ExportRequest(model="resnet18", weights="random", resolution=64, out_dir=out,
                                validate_samples=32))
    assert all(r.status == "ok" for r in results), [r.reason for r in results]
    return {r.format: r.artifact.path for r in results}


@pytest.fixture
def in_process_cluster():
    """start(**workers) -> the scheduler's address: workers in this process, each with its
    own boards (this machine under those names) and/or the export resource."""
    from distributed import Scheduler, SpecCluster, Worker

    from edgebench.executors.cluster import BoardPlugin, WorkerSpec

    clusters = []

    def start(workers: dict[str, WorkerSpec]) -> str:
        spec = {name: {"cls": Worker, "options": {
            "nthreads": 1, "resources": w.resources(), "name": name,
            "plugins": {BoardPlugin(w.boards, w.this_machine)}}} for name, w in workers.items()}
        cluster = SpecCluster(workers=spec, scheduler={"cls": Scheduler, "options": {
            "dashboard_address": ":0", "host": "127.0.0.1"}}, asynchronous=False)
        clusters.append(cluster)
        return cluster.scheduler_address

    yield start
    for cluster in clusters:
        cluster.close()


@pytest.fixture(scope="session")
def fm_checkpoint(tmp_path_factory):
    """ResNet-18 trained on 1,024 Fashion-MNIST images for 2 epochs (32 px): a real checkpoint."""
    from edgebench.train import TrainRequest, run as train

    out = tmp_path_factory.mktemp("ckpt") / "r18.pt"
    train(TrainRequest("resnet18", "fashion-mnist:train:1024", epochs=2, batch=64, out=out))
    return out
