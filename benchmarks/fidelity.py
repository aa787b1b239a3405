"""Measurement fidelity: edgebench's numbers against what a user would measure by hand.

Printed side by side in one run, each measurement in its own process, rounds
alternating ours/theirs (medians over rounds):
  1. harness overhead per iteration against the null backend       (target < 0.05 ms)
  2. OpenVINO IR p50 vs `benchmark_app -hint latency`, same threads (target within +-3%)
  3. onnxruntime and TFLite p50 vs a bare ten-line loop, same settings (target within +-3%)
Run: ``python benchmarks/fidelity.py [--threads 2] [--rounds 3] [--seconds 5]``. Exit 1 on a miss.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from edgebench.agent import Job
from edgebench.bench import resolve
from edgebench.export import ExportRequest, run as export
from edgebench.harness import HarnessSettings
from edgebench.runtimes import ModelRef, RuntimeSettings
from edgebench.targets import run_agent
from edgebench.targets.local import LocalTarget

MODELS = ("resnet50", "efficientnet_b0")
OVERHEAD_LIMIT_MS = 0.05
AGREEMENT = 0.03

BARE_LOOPS = {  # a user's own timing loop: argv = model path, threads, runs
    "onnxruntime": """
import sys, time, numpy as np, onnxruntime as ort
path, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
i = s.get_inputs()[0]; x = np.random.default_rng(0).standard_normal(i.shape).astype(np.float32)
for _ in range(5): s.run(None, {i.name: x})
t = []
for _ in range(runs):
    t0 = time.perf_counter(); s.run(None, {i.name: x}); t.append(time.perf_counter() - t0)
print(np.median(t) * 1e3)
""",
    "tflite": """
import sys, time, numpy as np
from ai_edge_litert.interpreter import Interpreter
path, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
it = Interpreter(model_path=path, num_threads=threads); it.allocate_tensors()
i, o = it.get_input_details()[0], it.get_output_details()[0]
x = np.random.default_rng(0).standard_normal(i["shape"]).astype(np.float32)
def infer(): it.set_tensor(i["index"], x); it.invoke(); return it.get_tensor(o["index"])
for _ in range(5): infer()
t = []
for _ in range(runs):
    t0 = time.perf_counter(); infer(); t.append(time.perf_counter() - t0)
print(np.median(t) * 1e3)
""",
}


def ours(ref: ModelRef, runtime: str, threads: int, seconds: float) -> dict:
    job = Job(model=ref, runtime=runtime, settings=RuntimeSettings(threads=threads),
              harness=HarnessSettings(warmup_runs=5, min_runs=30, min_seconds=seconds))
    reply = run_agent(LocalTarget(), job.to_dict(), timeout_s=600)
    if reply.status != "ok":
        raise SystemExit(f"{runtime} {ref.path}: {reply.status}: {reply.reason}")
    return reply.latency


def bare(runtime: str, path: str, threads: int, runs: int) -> float:
    out = subprocess.run([sys.executable, "-c", BARE_LOOPS[runtime], path, str(threads), str(runs)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def benchmark_app(xml: str, threads: int, seconds: float) -> float:
    """Its median latency. benchmark_app refuses -nthreads beside -hint latency, so the
    thread count it chose is read from its own configuration dump and checked."""
    tool = shutil.which("benchmark_app") or str(Path(sys.executable).with_name("benchmark_app"))
    out = subprocess.run([tool, "-m", xml, "-d", "CPU", "-hint", "latency", "-infer_precision", "f32",
                          "-t", str(int(seconds))], capture_output=True, text=True, check=True).stdout
    median_ms = re.search(r"Median:\s+([\d.]+) ms", out)
    used = re.search(r"INFERENCE_NUM_THREADS:\s+(\d+)", out)
    if not median_ms or not used:
        raise SystemExit(f"benchmark_app printed no median or thread count:\n{out[-2000:]}")
    if int(used.group(1)) != threads:
        raise SystemExit(f"benchmark_app chose {used.group(1)} threads, not {threads}: "
                         "compare with --threads set to that")
    return float(median_ms.group(1))


def harness_overhead(seconds: float) -> tuple[float, float]:
    """(ms per iteration of the whole timing loop, p50 ms of the timed no-op)."""
    ref = ModelRef(path=None, format="none", input_shape=(1, 3, 224, 224))
    job = Job(model=ref, runtime="null", harness=HarnessSettings(warmup_runs=100, min_runs=1000,
                                                                 min_seconds=seconds))
    lat = run_agent(LocalTarget(), job.to_dict(), timeout_s=300).latency
    return lat.measured_s * 1e3 / lat.runs, lat.p50_ms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=None, help="artifact root (reused as a cache)")
    parser.add_argument("--runtimes", default="onnxruntime,tflite,openvino",
                        help="comma-separated subset to compare")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="edgebench-fidelity-"))
    misses = 0

    per_iter_ms, p50_ms = harness_overhead(args.seconds)
    ok = per_iter_ms < OVERHEAD_LIMIT_MS
    misses += not ok
    print(f"harness overhead (null backend): {per_iter_ms * 1e3:.2f} us per iteration, "
          f"timed no-op p50 {p50_ms * 1e3:.2f} us  [{'ok' if ok else 'MISS'}: < {OVERHEAD_LIMIT_MS * 1e3:.0f} us]",
          flush=True)
    print(f"\n{'model':16s} {'runtime':12s} {'reference':22s} {'edgebench p50':>14s} {'reference p50':>14s} "
          f"{'ratio':>7s}  verdict", flush=True)
    for model in MODELS:
        results = export(ExportRequest(model=model, weights="random", out_dir=out, validate_samples=32))
        folders = {r.format: r.path for r in results if r.path}
        cases = [("onnxruntime", "onnx", "bare loop"), ("tflite", "tflite", "bare loop"),
                 ("openvino", "openvino", "benchmark_app")]
        for runtime, fmt, reference in cases:
            if runtime not in args.runtimes.split(","):
                continue
            ref = resolve(str(folders[fmt])).model
            mine, theirs = [], []
            for _ in range(args.rounds):
                lat = ours(ref, runtime, args.threads, args.seconds)
                mine.append(lat["p50_ms"])
                if reference == "benchmark_app":
                    theirs.append(benchmark_app(ref.path, args.threads, args.seconds))
                else:
                    theirs.append(bare(runtime, ref.path, args.threads, lat["runs"]))
            ratio = median(mine) / median(theirs)
            ok = abs(ratio - 1) <= AGREEMENT
            misses += not ok
            print(f"{model:16s} {runtime:12s} {reference:22s} {median(mine):11.3f} ms {median(theirs):11.3f} ms "
                  f"{ratio:7.3f}  {'ok' if ok else 'MISS'} (rounds: "
                  f"{', '.join(f'{a:.2f}/{b:.2f}' for a, b in zip(mine, theirs))})", flush=True)
    print(f"\n{misses} misses; threads={args.threads}, rounds={args.rounds}, {args.seconds:g} s per measurement")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
