import time

import numpy as np
import pytest

from edgebench.harness import HarnessSettings, LatencyStats, measure
from edgebench.runtimes import RuntimeSettings, null


def test_stops_only_when_both_min_runs_and_min_seconds_are_met():
    calls = []
    stats, _ = measure(lambda: calls.append(1), HarnessSettings(warmup_runs=7, min_runs=50,
                                                                min_seconds=0.2))
    assert stats.runs >= 50 and stats.measured_s >= 0.2
    assert len(calls) == stats.runs + 7  # warm-up runs are not timed
    assert stats.stopped_by == "min_runs_and_min_seconds"


def test_min_runs_dominates_for_a_slow_model():
    stats, _ = measure(lambda: time.sleep(0.01), HarnessSettings(warmup_runs=0, min_runs=12,
                                                                  min_seconds=0.0))
    assert stats.runs == 12 and stats.p50_ms >= 10


def test_max_seconds_cuts_a_run_that_would_take_too_long():
    stats, _ = measure(lambda: time.sleep(0.02), HarnessSettings(warmup_runs=0, min_runs=10_000,
                                                                  min_seconds=0, max_seconds=0.2))
    assert stats.stopped_by == "max_seconds" and stats.runs < 100


def test_statistics_match_numpy():
    samples_ns = np.arange(1, 101) * 1_000_000  # 1..100 ms
    s = LatencyStats.from_samples(samples_ns, 5.05, "min_runs_and_min_seconds")
    assert s.p50_ms == pytest.approx(50.5) and s.p90_ms == pytest.approx(90.1)
    assert s.p99_ms == pytest.approx(99.01) and s.mean_ms == pytest.approx(50.5)
    assert s.min_ms == 1 and s.max_ms == 100 and s.std_ms == pytest.approx(np.std(np.arange(1, 101)))


def test_each_sample_times_exactly_one_call_and_the_last_output_comes_back():
    """Calls alternate 2 ms and 20 ms. A sleep never returns early, but under load it may
    return late, so only lower bounds are exact: each sample is at least 2 ms (none is empty),
    the long calls lift p90 to 20 ms and the median to at least 11, and the shortest is below
    20 ms (a short call alone; two calls in one sample would be at least 22 ms)."""
    calls = []

    def run():
        calls.append(1)
        time.sleep(0.002 if len(calls) % 2 else 0.020)
        return len(calls)

    stats, out = measure(run, HarnessSettings(warmup_runs=2, min_runs=20, min_seconds=0))
    assert stats.runs == 20 and out == len(calls) == 22
    assert 2 <= stats.min_ms < 20 <= stats.p90_ms
    assert stats.p50_ms >= (2 + 20) / 2  # the middle of ten samples of 2 ms and ten of 20 ms


def test_the_null_runtime_adds_almost_nothing():
    session = null.load(None, RuntimeSettings())
    x = np.ones(3)
    stats, out = measure(lambda: session.run(x), HarnessSettings(warmup_runs=1, min_runs=1000,
                                                                 min_seconds=0))
    assert out is x and stats.runs == 1000
    assert stats.p50_ms < 1.0  # a timed no-op: what the harness itself costs per call
