"""What one remote cell costs beyond the inference: connect, upload check, agent start.

Usage: python benchmarks/remote_overhead.py TARGET ARTIFACT [--repeats N]
Runs the null runtime (loads nothing, runs nothing) through the agent with a minimal harness,
on TARGET and on this machine, N times each; prints medians. Nothing else may run meanwhile.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from edgebench.agent import Job
from edgebench.bench import Cell, agent_model, resolve
from edgebench.harness import HarnessSettings
from edgebench.runtimes import RuntimeSettings
from edgebench.targets import open_target, run_agent

MINIMAL = HarnessSettings(warmup_runs=0, min_runs=1, min_seconds=0.0, max_seconds=1.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("artifact", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cell = Cell(resolve(str(args.artifact)), "null", RuntimeSettings())
    rows = {"connect": [], "upload check (file present)": [], "agent start + null job": [],
            "local agent start + null job": []}
    for _ in range(args.repeats):
        started = time.perf_counter()
        target = open_target(args.target)
        target.run_command(["true"])
        rows["connect"].append(time.perf_counter() - started)
        started = time.perf_counter()  # the artifact is on the board already: one check
        model = agent_model(cell, target)
        rows["upload check (file present)"].append(time.perf_counter() - started)
        job = Job(model=model, runtime="null", harness=MINIMAL).to_dict()
        target.agent_argv("null")  # the bundle's check, once per session
        started = time.perf_counter()
        reply = run_agent(target, job, 600)
        rows["agent start + null job"].append(time.perf_counter() - started)
        assert reply.status == "ok", reply.reason
        target.close()
        with open_target("local") as local:
            local_job = Job(model=agent_model(cell, local), runtime="null", harness=MINIMAL)
            started = time.perf_counter()
            run_agent(local, local_job.to_dict(), 600)
            rows["local agent start + null job"].append(time.perf_counter() - started)
    for name, seconds in rows.items():
        print(f"{name:32s} median {statistics.median(seconds):6.2f} s  "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f}, n={len(seconds)})")


if __name__ == "__main__":
    main()
