"""The on-device entry point: ``python -m edgebench.agent`` reads a JSON job on stdin and
writes one JSON result on stdout.

It imports numpy and the one runtime the job names (torch only for the torch
backend), so it runs on a board that has nothing else. Every failure it can see
becomes a typed result; the host turns a crash or a timeout into one as well.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from . import fingerprint, harness
from .errors import DependencyMissingError
from .formats import RUNTIMES
from .runtimes import LoadError, ModelRef, RuntimeSettings, first_line

INPUT_SEED = 0


@dataclass(frozen=True)
class Job:
    """One measurement: which model, which runtime, how to run it, how to time it."""

    model: ModelRef
    runtime: str
    settings: RuntimeSettings = RuntimeSettings()
    harness: harness.HarnessSettings = harness.HarnessSettings()
    input_dtype: str = "float32"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"model": self.model.to_dict(), "runtime": self.runtime,
                "settings": self.settings.to_dict(), "harness": self.harness.to_dict(),
                "input_dtype": self.input_dtype, "extra": self.extra}

    @classmethod
    def from_dict(cls, d: dict) -> "Job":
        return cls(model=ModelRef.from_dict(d["model"]), runtime=d["runtime"],
                   settings=RuntimeSettings(**d.get("settings", {})),
                   harness=harness.HarnessSettings(**d.get("harness", {})),
                   input_dtype=d.get("input_dtype", "float32"), extra=d.get("extra", {}))


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _input_shape(job: Job) -> tuple[int, ...]:
    shape = list(job.model.input_shape) or [1, 3, job.model.resolution or 224, job.model.resolution or 224]
    shape[0] = job.settings.batch
    if not all(isinstance(d, int) and d > 0 for d in shape):
        raise ValueError(f"input shape {shape} is not fully known: export with a static shape")
    return tuple(shape)


def run_job(job: Job) -> dict:
    """Load, warm up, time and check one model; never raises."""
    result = {"status": "ok", "reason": "", "runtime": job.runtime,
              "settings": job.settings.to_dict(), "harness": job.harness.to_dict(),
              "fingerprint": fingerprint.collect()}

    def fail(status: str, reason: str) -> dict:
        result.update(status=status, reason=reason, peak_rss_mb=_peak_rss_mb())
        return result

    spec = RUNTIMES.get(job.runtime)
    if spec is None:
        return fail("load_failed", f"unknown runtime {job.runtime!r}: choose from {', '.join(RUNTIMES)}")
    try:
        backend = spec.load_backend()
        started = time.perf_counter()
        session = backend.load(job.model, job.settings)
        result["load_ms"] = (time.perf_counter() - started) * 1e3
    except (LoadError, DependencyMissingError) as e:
        return fail("load_failed", str(e))
    except Exception as e:  # a runtime's own error types: still a load failure
        return fail("load_failed", f"{job.runtime}: {first_line(e)}")
    result["settings_used"] = session.settings_used
    try:
        shape = _input_shape(job)
        rng = np.random.default_rng(INPUT_SEED)
        x = rng.standard_normal(shape).astype(job.input_dtype)
        native = session.prepare(x)
        started = time.perf_counter()
        first = session.run(native)
        result["first_inference_ms"] = (time.perf_counter() - started) * 1e3
        y = session.to_numpy(first)
    except Exception as e:  # the runtime rejected the input (shape, dtype) or failed to run
        return fail("run_failed", f"{job.runtime} rejected the input: {first_line(e)}")
    result["input"] = {"shape": list(shape), "dtype": job.input_dtype}
    result["output_shape"] = list(y.shape)
    if not np.isfinite(y).all():
        return fail("run_failed", "the first inference returned NaN or Inf")
    stats, last = harness.measure(partial(session.run, native), job.harness)
    if not np.isfinite(session.to_numpy(last)).all():
        return fail("run_failed", "an inference during timing returned NaN or Inf")
    result["latency"] = stats.to_dict()
    result["throughput_ips"] = job.settings.batch * 1e3 / stats.mean_ms
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def main() -> int:
    try:
        job = Job.from_dict(json.loads(sys.stdin.read()))
    except (ValueError, KeyError, TypeError) as e:
        print(json.dumps({"status": "load_failed", "reason": f"malformed job: {first_line(e)}"}))
        return 2
    print(json.dumps(run_job(job), default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
