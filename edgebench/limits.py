"""Every numeric option has a range: finite, and bounded by the machine or the format.

One place states the bounds; the CLI's option types, the request checks and ``--help``
read them, so a bad value is one line naming the option, the range and the fix.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .errors import UserInputError

CORES = os.cpu_count() or 1
MAX_THREADS = 4 * CORES  # more threads than that only oversubscribes the cores
MAX_BATCH = 4096
MAX_RESOLUTION = 4096  # pixels a side; memory is checked per request on top of it
MAX_SAMPLES = 100_000  # validation and calibration samples; memory is checked too
MAX_RUNS = 10_000_000
MAX_WARMUP_RUNS = 100_000
DAY_S = 86_400.0
MAX_TIMEOUT_S = 7 * DAY_S
MAX_DURATION_S = DAY_S
# An input tensor set may take this share of the machine's memory.
MEMORY_SHARE = 0.5

# How long one cell's agent may run before it is killed, per command. They differ because
# the work differs: a bench cell is one load and a timed loop bounded by --max-seconds (300 s by
# default), so 600 s is that with room for a slow load; an eval cell scores a whole test split
# (10,000 images, minutes on a board), so it gets an hour; validate runs each artifact on a small
# input set on the board and here, but a board's first load of a big model is slow, so 900 s.
BENCH_TIMEOUT_S = 600.0
EVAL_TIMEOUT_S = 3600.0
VALIDATE_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Range:
    """A closed interval of allowed values for one option."""

    option: str
    low: float
    high: float
    integer: bool = False
    unit: str = ""

    def describe(self) -> str:
        fmt = (lambda v: f"{int(v)}") if self.integer else (lambda v: f"{v:g}")
        return f"{fmt(self.low)} to {fmt(self.high)}{self.unit}"

    def check(self, value):
        """``value`` if it is in range (None passes: "the default"), else a one-line error."""
        if value is None:
            return None
        kind = "a whole number" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                self.integer and not float(value).is_integer()):
            raise UserInputError(f"{self.option} must be {kind} from {self.describe()}, got {value!r}")
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise UserInputError(f"{self.option} must be {kind} from {self.describe()}, got "
                                 f"{value:g}")
        return int(value) if self.integer else float(value)


THREADS = Range("--threads", 1, MAX_THREADS, integer=True)
BATCH = Range("--batch", 1, MAX_BATCH, integer=True)
RESOLUTION = Range("--resolution", 16, MAX_RESOLUTION, integer=True, unit=" px")
VALIDATE_SAMPLES = Range("--validate-samples", 1, MAX_SAMPLES, integer=True)
CALIB_SAMPLES = Range("--calib N", 1, MAX_SAMPLES, integer=True)
SAMPLES = Range("the sample count N of D:split:N", 1, MAX_SAMPLES, integer=True)
FLOOR_SAMPLES = Range("--floor-samples", 1, MAX_SAMPLES, integer=True)
DIFF_SAMPLES = Range("--samples", 1, 10_000, integer=True)  # every tensor of each is kept
TEST_SAMPLES = Range("--test-samples", 1, MAX_SAMPLES, integer=True)
EPOCHS = Range("--epochs", 1, 1000, integer=True)
LEARNING_RATE = Range("--lr", 1e-7, 10.0)
TRAIN_BATCH = Range("--batch", 1, MAX_BATCH, integer=True)
WARMUP = Range("--warmup", 0, MAX_WARMUP_RUNS, integer=True)
MIN_RUNS = Range("--min-runs", 1, MAX_RUNS, integer=True)
MIN_SECONDS = Range("--min-seconds", 0, MAX_DURATION_S, unit=" s")
MAX_SECONDS = Range("--max-seconds", 0.001, MAX_DURATION_S, unit=" s")
TIMEOUT = Range("--timeout", 0.1, MAX_TIMEOUT_S, unit=" s")
NO_WORKER_TIMEOUT = Range("no_worker_timeout_s", 0.1, MAX_TIMEOUT_S, unit=" s")
AGREEMENT = Range("--min-top1-agreement", 0, 1)
OPSET = Range("--opset", 7, 30, integer=True)


def memory_bytes() -> int | None:
    """This machine's physical memory, or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_tensor_memory(option: str, samples: int, resolution: int, channels: int = 3) -> None:
    """Refuse a sample count whose float32 tensors would not fit in memory at this resolution."""
    total = memory_bytes()
    if total is None:
        return
    need = samples * channels * resolution * resolution * 4
    budget = total * MEMORY_SHARE
    if need > budget:
        fit = max(1, int(budget // (channels * resolution * resolution * 4)))
        raise UserInputError(
            f"{option} {samples} at {resolution} px needs {need / 2**30:.1f} GiB of inputs, more "
            f"than half this machine's memory ({total / 2**30:.1f} GiB): use at most {fit}")
