"""Warm-up, timing, stopping rules and statistics. Knows nothing about formats or runtimes.

Stopping rule (as MLPerf LoadGen's): after the warm-up, run until both ``min_runs``
and ``min_seconds`` are met, or ``max_seconds`` passes. The timed region is exactly
one call of ``run``: inputs are prepared before, outputs inspected after.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

DEFAULT_WARMUP_RUNS = 5
DEFAULT_MIN_RUNS = 30
DEFAULT_MIN_SECONDS = 2.0
DEFAULT_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class HarnessSettings:
    warmup_runs: int = DEFAULT_WARMUP_RUNS
    min_runs: int = DEFAULT_MIN_RUNS
    min_seconds: float = DEFAULT_MIN_SECONDS
    max_seconds: float = DEFAULT_MAX_SECONDS

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LatencyStats:
    runs: int
    measured_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    stopped_by: str  # "min_runs_and_min_seconds" | "max_seconds"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_samples(cls, samples_ns: np.ndarray, measured_s: float, stopped_by: str) -> "LatencyStats":
        ms = samples_ns.astype(np.float64) / 1e6
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        return cls(runs=len(ms), measured_s=measured_s, p50_ms=float(p50), p90_ms=float(p90),
                   p99_ms=float(p99), mean_ms=float(ms.mean()), std_ms=float(ms.std()),
                   min_ms=float(ms.min()), max_ms=float(ms.max()), stopped_by=stopped_by)


def measure(run: Callable[[], Any], settings: HarnessSettings = HarnessSettings()) -> tuple[LatencyStats, Any]:
    """Time ``run`` under ``settings``; returns the statistics and the last output."""
    for _ in range(settings.warmup_runs):
        run()
    clock = time.perf_counter_ns
    samples = array("q")  # 8 bytes a sample: a fast model timed for long stays small
    append = samples.append
    start = clock()
    min_end = start + int(settings.min_seconds * 1e9)
    max_end = start + int(settings.max_seconds * 1e9)
    min_runs = max(settings.min_runs, 1)
    stopped_by = "min_runs_and_min_seconds"
    while True:
        t0 = clock()
        out = run()
        t1 = clock()
        append(t1 - t0)
        if t1 >= min_end and len(samples) >= min_runs:
            break
        if t1 >= max_end:
            stopped_by = "max_seconds"
            break
    measured_s = (clock() - start) / 1e9
    return LatencyStats.from_samples(np.frombuffer(samples, dtype=np.int64), measured_s,
                                     stopped_by), out
