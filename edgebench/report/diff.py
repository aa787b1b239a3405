"""``edgebench report --diff A B``: what changed between two runs, comparing like with like.

Only cells with the same key (model, weights, format, precision, runtime, settings, target)
and the same device (CPU model, arch, cores) are compared. Speed ratios are bucketed as
Qualcomm AI Hub's PerformanceDiff does; a change inside the noise floor (10%, or the runs'
own spread when it is wider) is not called a regression. Fewer than two comparable cells is
"insufficient data", as Conbench says, rather than a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..results import LatencyCell

BUCKETS = (1.1, 1.2, 1.5, 2.0, 5.0, 10.0)
NOISE_FLOOR = 0.10
DEVICE_KEYS = ("cpu_model", "arch", "cores")


@dataclass(frozen=True)
class Change:
    label: str  # model precision format/runtime @ target
    before_ms: float | None
    after_ms: float | None
    ratio: float | None  # after / before: above 1 is slower
    bucket: str | None  # ">= 1.5x", ...


@dataclass
class Diff:
    run_a: int
    run_b: int
    comparable: int = 0
    regressions: list[Change] = field(default_factory=list)
    progressions: list[Change] = field(default_factory=list)
    broke: list[str] = field(default_factory=list)  # worked in A, fails in B
    fixed: list[str] = field(default_factory=list)  # failed in A, works in B
    new: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    other_device: list[str] = field(default_factory=list)  # same key, another device: skipped

    @property
    def verdict(self) -> str:
        if self.comparable < 2 and not (self.broke or self.fixed):
            return "insufficient data: fewer than two comparable cells"
        if not (self.regressions or self.progressions or self.broke or self.fixed):
            return "no significant changes"
        return (f"{len(self.regressions)} slower, {len(self.progressions)} faster, "
                f"{len(self.broke)} broke, {len(self.fixed)} started working")

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {**asdict(self), "verdict": self.verdict}


def _label(c: LatencyCell) -> str:
    made_as = f"{c.format} ({c.converter})" if c.converter else c.format
    return f"{c.model} {c.precision} {made_as}/{c.runtime} @ {c.target}"


def _device(c: LatencyCell) -> tuple:
    fp = c.fingerprint or {}
    return tuple(fp.get(k) for k in DEVICE_KEYS)


def _bucket(ratio: float) -> str | None:
    big = max(ratio, 1 / ratio)
    passed = [b for b in BUCKETS if big >= b]
    return f">= {passed[-1]:g}x" if passed else None


def _noise(a: LatencyCell, b: LatencyCell) -> float:
    """The larger of the floor and each run's own relative spread (std / mean)."""
    spread = [c.latency.std_ms / c.latency.mean_ms for c in (a, b)
              if c.latency and c.latency.mean_ms]
    return max([NOISE_FLOOR, *spread])


def compare(run_a: int, cells_a: list, run_b: int, cells_b: list) -> Diff:
    """The diff of two runs' latency cells (records from the store)."""
    a = {c.key: c for c in cells_a if isinstance(c, LatencyCell)}
    b = {c.key: c for c in cells_b if isinstance(c, LatencyCell)}
    diff = Diff(run_a, run_b)
    diff.new = sorted(_label(b[k]) for k in b.keys() - a.keys())
    diff.missing = sorted(_label(a[k]) for k in a.keys() - b.keys())
    for key in sorted(a.keys() & b.keys()):
        before, after = a[key], b[key]
        label = _label(after)
        if _device(before) != _device(after):
            diff.other_device.append(label)
            continue
        worked, works = not before.status.is_failure, not after.status.is_failure
        if worked and not works:
            diff.broke.append(f"{label}: {after.status}: {after.reason}")
            continue
        if works and not worked:
            diff.fixed.append(label)
            continue
        if not (before.latency and after.latency):
            continue
        diff.comparable += 1
        ratio = after.latency.p50_ms / before.latency.p50_ms
        if abs(ratio - 1) <= _noise(before, after):
            continue
        change = Change(label, before.latency.p50_ms, after.latency.p50_ms, round(ratio, 3),
                        _bucket(ratio))
        (diff.regressions if ratio > 1 else diff.progressions).append(change)
    return diff
