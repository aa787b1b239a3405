"""``edgebench bench``: latency of artifacts, one process per cell."""

from __future__ import annotations

import click

from .. import api, formats, harness, limits
from . import exits, options
from .options import Bounded
from .output import emit

@click.command()
@click.argument("artifacts", nargs=-1, required=True)
@options.runtimes(f"Runtimes to use: {', '.join(formats.RUNTIMES)}, or one pinned to a version "
                  "(onnxruntime==1.16.3, set up by `edgebench targets bootstrap TARGET --runtimes "
                  "...`) [default: every runtime that loads the format].")
@click.option("--device", default="cpu", show_default=True,
              help="Device; per runtime: " + "; ".join(
                  f"{r.name}: {r.devices}" for r in formats.RUNTIMES.values() if not r.any_format))
@options.threads("the runtime's")
@options.batch(1, f"Batch size [{limits.BATCH.describe()}].")
@click.option("--warmup", "warmup_runs", type=Bounded(limits.WARMUP), default=harness.DEFAULT_WARMUP_RUNS,
              show_default=True, help=f"Untimed runs before timing [{limits.WARMUP.describe()}].")
@click.option("--min-runs", type=Bounded(limits.MIN_RUNS), default=harness.DEFAULT_MIN_RUNS,
              show_default=True, help="Timed runs at least (and --min-seconds at least) "
              f"[{limits.MIN_RUNS.describe()}].")
@click.option("--min-seconds", type=Bounded(limits.MIN_SECONDS), default=harness.DEFAULT_MIN_SECONDS,
              show_default=True, help="Timed seconds at least (and --min-runs at least) "
              f"[{limits.MIN_SECONDS.describe()}].")
@click.option("--max-seconds", type=Bounded(limits.MAX_SECONDS), default=harness.DEFAULT_MAX_SECONDS,
              show_default=True, help="Stop timing after this long even if --min-runs is not met "
              f"(the cell then says so) [{limits.MAX_SECONDS.describe()}, not below --min-seconds].")
@options.timeout(limits.BENCH_TIMEOUT_S, "a cell's", ranged=True)
@options.runtime_knobs
@options.weights("Weights for zoo:MODEL references (imagenet | random | PATH).")
@options.target
@options.store
@options.as_json
def bench(artifacts, runtime, device, threads, batch, warmup_runs, min_runs, min_seconds,
          max_seconds, timeout_s, knobs, weights, target_name, store_path, as_json):
    """Measure latency of ARTIFACTS (folders, model files or zoo:MODEL), one process per cell.

    After the warm-up, each cell runs until both --min-runs and --min-seconds are met,
    then reports p50/p90/p99/mean/std/min/max, load and first-inference time, peak RSS,
    throughput, its settings and the device fingerprint. Exit 9 if any cell failed.

    \b
    Example:
      edgebench bench artifacts/resnet50/onnx-fp32 artifacts/resnet50/openvino-fp32 --threads 2
      edgebench bench zoo:resnet50 --runtime torch --device gpu --precision fp16 --batch 64
      edgebench bench zoo:resnet50 --runtime torch --device gpu --precision fp16 --compile
      edgebench bench artifacts/resnet18/tflite-int8 --target pi5
      edgebench bench artifacts/resnet18/onnx-int8 --runtime onnxruntime,onnxruntime==1.16.3
    """
    from ..bench import plan
    from ..targets import open_target
    from ..report import console

    request = api.bench_request(
        artifacts, runtime=runtime, timeout_s=timeout_s, weights=weights, device=device,
        threads=threads, batch=batch, **knobs, warmup_runs=warmup_runs,
        min_runs=min_runs, min_seconds=min_seconds, max_seconds=max_seconds)
    request.check()
    # the target first: a name that is not one is the first thing to hear, before any artifact
    with open_target(target_name) as where, \
            console.progress(len(plan(request, where.name)), "bench") as step:
        cells = api.bench(request, target=where, store=store_path, progress=step)
    emit(cells, as_json, console.latencies)
    exits.check(cells)


COMMANDS = (bench,)
