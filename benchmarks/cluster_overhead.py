"""What the Dask executor costs per cell against the local one.

Usage: python benchmarks/cluster_overhead.py [--cells N] [--rounds R]
The same N cells (the null runtime on a 32 px ResNet-18 ONNX file: the agent starts, loads
nothing and runs nothing, so what is left is the executor's own cost plus one agent process)
run through both executors of `edgebench sweep`, in rounds that alternate them: here, and on a
Dask scheduler with one `edgebench cluster worker --board local` process, both on this machine
over loopback. Prints the median time per cell of each and their difference. Nothing else may
run meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from edgebench.bench import BenchRequest, Cell, resolve
from edgebench.executors import Item, LocalExecutor, board_resource
from edgebench.executors.cluster import DaskExecutor
from edgebench.export import ExportRequest, run as export
from edgebench.harness import HarnessSettings
from edgebench.runtimes import RuntimeSettings
from edgebench.sweep import _lost_cell, _measure

MINIMAL = HarnessSettings(warmup_runs=0, min_runs=1, min_seconds=0.0, max_seconds=1.0)


def _items(artifact: str, count: int) -> list[Item]:
    cell = Cell(resolve(artifact), "null", RuntimeSettings())
    request = BenchRequest(artifacts=(), harness=MINIMAL)
    return [Item(f"null {i}", board_resource("local"), _measure, (cell, request, "local"),
                 partial(_lost_cell, cell, request, "local")) for i in range(count)]


def _per_cell_ms(executor, items: list[Item]) -> float:
    statuses = []

    def done(item, started, records, retriable):
        statuses.extend(r.status.value for r in records)
        return []

    started = time.perf_counter()
    executor.run(items, done)
    elapsed = time.perf_counter() - started
    if statuses != ["ok"] * len(items):
        raise SystemExit(f"not every cell ran: {statuses}")
    return elapsed * 1e3 / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cluster-overhead-"))
    (cell,) = export(ExportRequest(model="resnet18", formats=("onnx",), weights="random", resolution=32,
                                   out_dir=work))
    items = _items(cell.path, args.cells)
    procs = []
    try:
        scheduler_file = work / "scheduler.json"
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        while not scheduler_file.exists():
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "edgebench", "cluster", "worker", address, "--board", "local"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        dask = DaskExecutor(address)
        while "board:local" not in dask.resources():
            time.sleep(0.2)
        local = LocalExecutor()
        _per_cell_ms(local, items[:2])  # warm both paths: imports, the first agent start
        _per_cell_ms(dask, items[:2])
        rounds = {"local": [], "dask": []}
        for r in range(args.rounds):
            for name, executor in (("local", local), ("dask", dask)):
                rounds[name].append(_per_cell_ms(executor, items))
            print(f"round {r + 1}: local {rounds['local'][-1]:.1f} ms/cell, dask "
                  f"{rounds['dask'][-1]:.1f} ms/cell", flush=True)
        dask.close()
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
    lo, da = statistics.median(rounds["local"]), statistics.median(rounds["dask"])
    print(f"{args.cells} null cells x {args.rounds} rounds, medians: local executor {lo:.1f} ms per cell, "
          f"Dask executor (scheduler and worker on loopback) {da:.1f} ms per cell: "
          f"+{da - lo:.1f} ms per cell ({da / lo:.2f}x)")


if __name__ == "__main__":
    main()
