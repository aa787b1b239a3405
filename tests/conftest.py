import fcntl
import os
import pickle
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgebench.cli import cli
from tests.helpers import TEST_SAMPLES


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


def shared(tmp_path_factory, name: str, make):
    """A session fixture's value made once for the whole run: ``make(folder)``'s result.

    ``make test`` runs the tests in two processes (pytest-xdist), and each has its own session.
    The first to ask makes the value in a folder both can read, under a lock, and pickles it;
    the other waits and loads it. Without xdist it is simply made."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder, done = root / f"shared-{name}", root / f"shared-{name}.pickle"
    with open(root / f"shared-{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder.mkdir(exist_ok=True)
        value = make(folder)
        done.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="session")
def small_artifacts(tmp_path_factory):
    """A 64-px ResNet-18 exported once to every format: {format: artifact folder}."""

    def make(out: Path) -> dict:
        from edgebench.export import ExportRequest, run

        results = run(ExportRequest(model="resnet18", weights="random", resolution=64, out_dir=out,
                                    validate_samples=32))
        assert all(r.status == "ok" for r in results), [r.reason for r in results]
        return {r.format: r.artifact.path for r in results}

    return shared(tmp_path_factory, "small-artifacts", make)


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


@dataclass(frozen=True)
class Trained:
    """The session's one training run: its result, checkpoint and the warnings it gave."""

    result: object  # edgebench.results.TrainResult
    checkpoint: Path
    warnings: tuple[str, ...]


@pytest.fixture(scope="session")
def fm_training(tmp_path_factory) -> Trained:
    """ResNet-18 trained on 1,024 Fashion-MNIST images for 2 epochs (32 px), tested on
    TEST_SAMPLES test images: a real checkpoint, trained once for every test that needs one."""

    def make(folder: Path) -> Trained:
        from edgebench.train import TrainRequest, run as train

        out = folder / "r18.pt"
        warnings: list[str] = []
        result = train(TrainRequest("resnet18", "fashion-mnist:train:1024", epochs=2, batch=64,
                                    out=out, test_samples=TEST_SAMPLES), warnings.append)
        return Trained(result, out, tuple(warnings))

    return shared(tmp_path_factory, "fm-training", make)


@pytest.fixture(scope="session")
def fm_checkpoint(fm_training) -> Path:
    return fm_training.checkpoint


@dataclass(frozen=True)
class Exported:
    """The session's checkpoint exported once: the request (tests that export more, with
    another converter or a rescue rung, ask with the same options into the same folder, so
    what is shared is a cache hit) and its cells by label (``onnx-int8``)."""

    request: object  # edgebench.export.ExportRequest
    cells: dict

    def path(self, label: str) -> Path:
        return Path(self.cells[label].path)


@pytest.fixture(scope="session")
def fm_exports(fm_checkpoint, tmp_path_factory) -> Exported:
    """FP32 and INT8 of the trained checkpoint in every format (each format's own converter),
    calibrated on 16 training images, validated on 64 test images."""

    def make(out: Path) -> Exported:
        from edgebench.export import ExportRequest, run as export

        request = ExportRequest(model="resnet18", weights=str(fm_checkpoint), precisions=("int8",),
                                calib="fashion-mnist:16", validate_samples=64, out_dir=out)
        cells = export(request)
        assert all(c.path for c in cells), [(c.label, c.reason) for c in cells]
        return Exported(request, {c.label: c for c in cells})

    return shared(tmp_path_factory, "fm-exports", make)

# Session fixtures that put every test using them in a tier, without a mark of its own:
# the emulated board, and the trained checkpoint with its export set (tens of seconds).
TIER_OF_FIXTURE = {"emulated_board": pytest.mark.emulated, "fm_training": pytest.mark.slow}


# The files that take minutes (their module fixtures export, climb ladders or boot the board),
# longest first. pytest-xdist hands whole files to the two workers in collection order, so a
# long file collected late runs alone at the end; started first, the short files fill in
# around it and both workers finish closer together.
LONGEST_FIRST = ("tests/targets/test_emulated.py", "tests/export/test_rescue.py",
                 "tests/benchmarks/test_gpu_check.py", "tests/export/test_quantise.py",
                 "tests/test_sweep.py", "tests/export/test_onnx.py", "tests/targets/test_ssh.py")


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, mark in TIER_OF_FIXTURE.items():
            if fixture in used:
                item.add_marker(mark)
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    # a stable sort: the order inside each file (the board's last test stops it) is kept
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_terminal_summary(terminalreporter):
    """How many tests skipped, and why: a missing tool, no root, no GPU (set-up says how to
    add what is missing)."""
    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if reasons:
        terminalreporter.write_line(f"{sum(reasons.values())} tests skipped, and why:")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"  {count:4d}  {reason}")
