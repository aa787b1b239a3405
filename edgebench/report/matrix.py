"""The report's data: one row per (target, model, precision, format, runtime) from the store's
latest attempts, with latency, size, accuracy, speed-up over FP32, a recommendation per target
and the Pareto fronts. Pure data: the console, CSV, Markdown and JSON writers only format it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass

from ..results import AccuracyCell, ExportCell, LatencyCell, Status

DEFAULT_FLOOR_POINTS = 1.0  # a recommendation may lose at most this much top-1 against FP32


@dataclass(frozen=True)
class Row:
    """One cell of the compatibility grid, with every figure the store has for it."""

    target: str
    model: str
    precision: str
    format: str
    runtime: str
    status: str
    reason: str
    emulated: bool
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    throughput_ips: float | None
    size_mb: float | None
    load_ms: float | None
    peak_rss_mb: float | None
    top1: float | None
    drop_points: float | None  # from FP32 PyTorch on the same images
    speedup_vs_fp32: float | None  # the same model, format, runtime and target at FP32
    versions: dict
    known_limit: str | None = None  # a measured version limit that covers this cell
    limit_held: bool | None = None  # whether this cell bore it out (it failed)
    executed: str | None = None  # what the runtime reports it ran: precision, XNNPACK or not
    converter: str | None = None  # another converter than the format's own (None: its own)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def made_as(self) -> str:
        """The format, and the converter when it is not the format's own: ``tflite (onnx2tf)``."""
        return f"{self.format} ({self.converter})" if self.converter else self.format

    @property
    def limit_note(self) -> str | None:
        """The known limit and whether this cell bore it out, for people."""
        if not self.known_limit:
            return None
        return f"known limit ({'held' if self.limit_held else 'did not hold'} here): {self.known_limit}"


@dataclass(frozen=True)
class Recommendation:
    target: str
    fastest: Row | None  # the lowest p90 among rows within the accuracy floor
    smallest: Row | None
    floor_points: float
    why: str


def rows(attempts) -> list[Row]:
    """Grid rows from the store's latest attempts (latency cells, joined with accuracy)."""
    accuracy = {}
    for a in attempts:
        r = a.record
        if isinstance(r, AccuracyCell) and r.status in (Status.OK, Status.DEGRADED):
            accuracy[(r.target, r.model, r.format, r.converter, r.precision, r.runtime)] = r
    out = []
    for a in attempts:
        r = a.record
        if not isinstance(r, LatencyCell):
            continue
        fp = r.fingerprint or {}
        emulated = bool(fp.get("emulated"))
        lat = None if emulated else r.latency  # an emulation's timings are not speeds
        acc = accuracy.get((r.target, r.model, r.format, r.converter, r.precision, r.runtime))
        out.append(Row(
            target=r.target, model=r.model or r.label, precision=r.precision, format=r.format,
            runtime=r.runtime, status=r.status.value, reason=r.reason, emulated=emulated,
            p50_ms=lat.p50_ms if lat else None, p90_ms=lat.p90_ms if lat else None,
            p99_ms=lat.p99_ms if lat else None,
            throughput_ips=r.throughput_ips if lat else None,
            size_mb=r.size_bytes / 1e6 if r.size_bytes else None,
            load_ms=r.load_ms, peak_rss_mb=r.peak_rss_mb,
            top1=acc.top1 if acc else None, drop_points=acc.drop_points if acc else None,
            speedup_vs_fp32=None, versions=dict(r.tools or {}),
            executed=executed(r.settings_used), converter=r.converter, **_limit(r, fp)))
    base = {(r.target, r.model, r.format, r.converter, r.runtime): r.p50_ms for r in out
            if r.precision == "fp32" and r.p50_ms}
    return sorted((_with_speedup(r, base) for r in out),
                  key=lambda r: (r.target, r.model, r.precision, r.format, r.converter or "", r.runtime))


def executed(settings_used: dict | None) -> str | None:
    """What the runtime reported it executed, from its settings: ``fp16``, ``int8``,
    ``XNNPACK`` / ``no XNNPACK`` (asked for, not taken), torch's ``compiled+graph``."""
    used = settings_used or {}
    parts = [used["executed_precision"]] if used.get("executed_precision") else []
    if used.get("mode"):
        parts.append(used["mode"])
    if used.get("xnnpack") and used.get("xnnpack_applied") is not None:
        parts.append("XNNPACK" if used["xnnpack_applied"] else "no XNNPACK")
    return ", ".join(parts) or None


def _limit(cell: LatencyCell, fingerprint: dict) -> dict:
    from ..formats import known_limit

    limit = known_limit(cell.model or cell.label, cell.format, cell.precision, cell.runtime,
                        dict(cell.tools or {}), fingerprint.get("cpu_model"))
    if limit is None or cell.status == Status.UNSUPPORTED:
        return {}
    return {"known_limit": limit.fact, "limit_held": cell.status.is_failure}


def _with_speedup(row: Row, base: dict) -> Row:
    fp32 = base.get((row.target, row.model, row.format, row.converter, row.runtime))
    if not fp32 or not row.p50_ms:
        return row
    return Row(**{**asdict(row), "speedup_vs_fp32": round(fp32 / row.p50_ms, 3)})


def recommend(grid: list[Row], floor_points: float = DEFAULT_FLOOR_POINTS) -> list[Recommendation]:
    """Per target: the fastest and the smallest working cell within the accuracy floor."""
    out = []
    for target in sorted({r.target for r in grid}):
        mine = [r for r in grid if r.target == target and r.status == "ok"]
        measured = [r for r in mine if r.drop_points is not None]
        eligible = [r for r in measured if r.drop_points <= floor_points] if measured else mine
        why = (f"within {floor_points:g} point(s) of FP32 top-1" if measured else
               "no accuracy in the store for this target: every working cell counts")
        timed = [r for r in eligible if r.p90_ms is not None]
        sized = [r for r in eligible if r.size_mb is not None]
        out.append(Recommendation(
            target, min(timed, key=lambda r: r.p90_ms) if timed else None,
            min(sized, key=lambda r: r.size_mb) if sized else None, floor_points,
            why if timed or not mine else why + "; an emulated target has no speeds"))
    return out


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points on the front of (cost to minimise, accuracy to maximise).

    Olive's rule: a point is dominated when another is no worse in both and better in one;
    equal points do not dominate each other.
    """
    front = []
    for i, (cost, acc) in enumerate(points):
        if not any((c <= cost and a >= acc) and (c < cost or a > acc)
                   for j, (c, a) in enumerate(points) if j != i):
            front.append(i)
    return front


def exports(attempts) -> list[ExportCell]:
    return [a.record for a in attempts if isinstance(a.record, ExportCell)]


COLUMNS = ("target", "model", "precision", "format", "converter", "runtime", "status", "p50_ms", "p90_ms",
           "p99_ms", "throughput_ips", "size_mb", "load_ms", "peak_rss_mb", "top1", "drop_points",
           "speedup_vs_fp32", "emulated", "executed", "reason", "known_limit", "limit_held")


def to_csv(grid: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for r in grid:
        d = r.to_dict()
        writer.writerow(["" if d[c] is None else d[c] for c in COLUMNS])
    return buf.getvalue()


def _md(value) -> str:
    text = "-" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(grid: list[Row], recs: list[Recommendation]) -> str:
    lines = ["# edgebench report", ""]
    for rec in recs:
        lines.append(f"## {rec.target}")
        lines.append("")
        for label, row in (("fastest", rec.fastest), ("smallest", rec.smallest)):
            lines.append(f"- {label}: " + (f"{row.model} {row.precision} {row.made_as} in "
                                            f"{row.runtime}" if row else "none") + f" ({rec.why})")
        lines += ["", "| " + " | ".join(COLUMNS[1:]) + " |", "|" + "---|" * (len(COLUMNS) - 1)]
        for r in grid:
            if r.target == rec.target:
                d = r.to_dict()
                lines.append("| " + " | ".join(_md(d[c]) for c in COLUMNS[1:]) + " |")
        lines.append("")
    return "\n".join(lines)
