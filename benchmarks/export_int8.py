"""`edgebench export MODEL --int8` figures: wall time of the whole command, INT8/FP32 file
size and latency ratios per format, measured side by side in one run.

Latency: batch 1, --threads (default 2), each cell in its own agent process (one runtime
per process: idle thread pools of another runtime slow the next), p50 of each of
--rounds rounds, then the median. The targets (*_TARGET below) are printed beside each figure.
Run: ``python benchmarks/export_int8.py [resnet50 efficientnet_b0]``. Exit 1 on a miss.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from edgebench.agent import Job
from edgebench.bench import resolve
from edgebench.formats import FORMATS
from edgebench.harness import HarnessSettings
from edgebench.runtimes import RuntimeSettings
from edgebench.targets import run_agent
from edgebench.targets.local import LocalTarget

LATENCY_TARGET = {"resnet50": {"onnx": 0.40, "openvino": 0.35, "tflite": 0.35},
                  "efficientnet_b0": {"onnx": 0.80, "openvino": 0.65, "tflite": 0.50}}
SIZE_TARGET = {"resnet50": 0.27, "efficientnet_b0": 0.32}
COMMAND_SECONDS = 240
CACHE_HIT_SECONDS = 2


def _export(model: str, out: Path) -> tuple[float, int]:
    """Time the real command, as a user runs it (random weights: offline)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "edgebench", "export", model, "--int8",
                           "--weights", "random", "--out", str(out), "--json"],
                          capture_output=True, text=True)
    return time.perf_counter() - started, done.returncode


def _p50(folder: Path, fmt: str, threads: int, seconds: float) -> float:
    job = Job(model=resolve(str(folder)).model, runtime=FORMATS[fmt].validated_by,
              settings=RuntimeSettings(threads=threads),
              harness=HarnessSettings(warmup_runs=5, min_runs=30, min_seconds=seconds))
    reply = run_agent(LocalTarget(), job.to_dict(), timeout_s=600)
    if reply.status != "ok":
        raise SystemExit(f"{folder}: {reply.status}: {reply.reason}")
    return reply.latency.p50_ms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=list(LATENCY_TARGET))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="edgebench-int8-"))
    misses = 0

    def verdict(ok: bool) -> str:
        nonlocal misses
        misses += not ok
        return "ok" if ok else "MISS"

    for model in args.models:
        seconds, code = _export(model, out)
        print(f"\n{model}: `edgebench export {model} --int8` took {seconds:.0f} s (exit {code}) "
              f"[{verdict(seconds < COMMAND_SECONDS)}: < {COMMAND_SECONDS} s]", flush=True)
        again, _ = _export(model, out)
        print(f"{model}: repeated run {again:.2f} s [{verdict(again < CACHE_HIT_SECONDS)}: "
              f"< {CACHE_HIT_SECONDS} s]", flush=True)
        print(f"{'format':9s} {'FP32 MB':>8s} {'INT8 MB':>8s} {'size':>6s} {'FP32 ms':>8s} {'INT8 ms':>8s} "
              f"{'latency':>8s}  INT8 top-1 agreement / status", flush=True)
        import json

        for fmt in FORMATS:
            fp32, int8 = out / model / f"{fmt}-fp32", out / model / f"{fmt}-int8"
            m32 = json.loads((fp32 / "manifest.json").read_text())
            m8 = json.loads((int8 / "manifest.json").read_text())
            size = m8["size_bytes"] / m32["size_bytes"]
            lat32, lat8 = [], []
            for _ in range(args.rounds):  # alternate so drift hits both alike
                lat32.append(_p50(fp32, fmt, args.threads, args.seconds))
                lat8.append(_p50(int8, fmt, args.threads, args.seconds))
            ratio = median(lat8) / median(lat32)
            lt, st = LATENCY_TARGET[model][fmt], SIZE_TARGET[model]
            print(f"{fmt:9s} {m32['size_bytes'] / 1e6:8.1f} {m8['size_bytes'] / 1e6:8.1f} {size:6.3f} "
                  f"{median(lat32):8.2f} {median(lat8):8.2f} {ratio:8.3f}  "
                  f"{m8['validation']['top1_agreement']:.1%} / {m8['validation']['outcome']}  "
                  f"[size {verdict(size <= st)} <= {st}; latency {verdict(ratio <= lt)} <= {lt}]",
                  flush=True)
    print(f"\n{misses} misses; threads={args.threads}, rounds={args.rounds}; artifacts in {out}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
