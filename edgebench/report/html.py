"""The HTML report: one self-contained file that works with no network.

Jinja2 with autoescape (every name from the store is escaped), the report's data embedded
once as JSON, plots as inline SVG drawn by matplotlib with a fixed hash salt and no date, so
the same store gives the same bytes. No script runs and nothing is fetched: the page's
Content-Security-Policy forbids both.
"""

from __future__ import annotations

import io
import json
import time
from importlib import resources

from ..errors import require
from .matrix import Recommendation, Row, pareto

HEADERS = ("model", "precision", "format", "runtime", "status", "p50 ms", "p90 ms", "img/s",
           "size MB", "load ms", "RSS MB", "top-1 %", "drop pts", "vs FP32")


def _fmt(value, spec: str = "{:.2f}") -> str:
    return "-" if value is None else spec.format(value)


def _svg(title: str, xlabel: str, points: list[tuple[float, float, str]]) -> str:
    """A scatter of (cost, accuracy, label) with the Pareto front drawn; per-point tooltips."""
    require("matplotlib", "report")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "edgebench"
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    front = sorted(pareto([(x, y) for x, y, _ in points]), key=lambda i: points[i][0])
    for i, (x, y, label) in enumerate(points):
        dot = ax.scatter([x], [y], s=28, color="#c0392b" if i in front else "#7f8c8d")
        dot.set_gid(f"point-{i}")
        dot.set_label(label)
    ax.plot([points[i][0] for i in front], [points[i][1] for i in front], color="#c0392b",
            linewidth=1, label="_front")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("top-1 %")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    for i, (_, _, label) in enumerate(points):  # a <title> in each point's group: a tooltip
        gid = f'<g id="point-{i}">'
        svg = svg.replace(gid, f"{gid}<title>{_escape(label)}</title>", 1)
    return svg


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _target(name: str, grid: list[Row], rec: Recommendation) -> dict:
    from markupsafe import Markup

    rows = [r for r in grid if r.target == name]
    columns = sorted({f"{r.made_as}/{r.runtime}" for r in rows})
    by_model = {}
    for r in rows:
        cells = by_model.setdefault((r.model, r.precision), {})
        versions = ", ".join(f"{k} {v}" for k, v in sorted(r.versions.items()))
        cells[f"{r.made_as}/{r.runtime}"] = {
            "status": r.status, "title": " | ".join(filter(None, (
                f"{r.status}: {r.reason or 'ok'}", r.executed and f"ran {r.executed}", versions,
                r.limit_note)))}
    figures, note = [], None
    timed = [r for r in rows if r.status == "ok" and r.top1 is not None]
    if any(r.emulated for r in rows):
        note = "emulated target: no speed plots"
    elif timed:
        label = [f"{r.model} {r.precision} {r.made_as}/{r.runtime}" for r in timed]
        with_p90 = [(r.p90_ms, r.top1, lab) for r, lab in zip(timed, label) if r.p90_ms]
        with_size = [(r.size_mb, r.top1, lab) for r, lab in zip(timed, label) if r.size_mb]
        if with_p90:
            figures.append(Markup(_svg(f"{name}: accuracy vs p90 latency", "p90 ms", with_p90)))
        if with_size:
            figures.append(Markup(_svg(f"{name}: accuracy vs size", "MB", with_size)))
    else:
        note = "no accuracy in the store for this target: no Pareto plots (edgebench eval)"
    recs = []
    for label, row in (("fastest", rec.fastest), ("smallest", rec.smallest)):
        recs.append({"label": label, "why": rec.why, "choice": f"{row.model} {row.precision} "
                     f"{row.made_as} in {row.runtime}" if row else "none"})
    return {
        "name": name, "emulated": any(r.emulated for r in rows), "columns": columns,
        "grid": [{"model": m, "precision": p, "cells": [cells.get(c) for c in columns]}
                 for (m, p), cells in sorted(by_model.items())],
        "rows": [(r.model, r.precision, r.made_as, r.runtime, r.status, _fmt(r.p50_ms),
                  _fmt(r.p90_ms), _fmt(r.throughput_ips, "{:.1f}"), _fmt(r.size_mb, "{:.1f}"),
                  _fmt(r.load_ms, "{:.0f}"), _fmt(r.peak_rss_mb, "{:.0f}"), _fmt(r.top1),
                  _fmt(r.drop_points), _fmt(r.speedup_vs_fp32, "{:.2f}x")) for r in rows],
        "recommendations": recs, "figures": figures, "plot_note": note}


def render(grid: list[Row], recs: list[Recommendation], runs: list[dict]) -> str:
    """The report as one HTML document."""
    jinja2 = require("jinja2", "report")
    from markupsafe import Markup

    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(
        resources.files(__package__).joinpath("templates/report.html.j2").read_text())
    data = json.dumps({"cells": [r.to_dict() for r in grid], "runs": runs},
                      sort_keys=True, allow_nan=False, default=str)
    # JSON inside <script>: no "</script>" or "<!--" can end it early
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    by_target = {r.target: r for r in recs}
    targets = [_target(name, grid, by_target[name]) for name in sorted(by_target)]
    summary = (f"{len(grid)} cells on {len(targets)} target(s) from {len(runs)} run(s); "
               "hover a grid cell for its reason and versions")
    run_rows = [{"id": r["id"], "started": time.strftime("%Y-%m-%d %H:%M",
                                                        time.localtime(r["started_at"])),
                 "version": r["edgebench_version"], "host": r["host"],
                 "device": " | ".join(str(r["fingerprint"].get(k)) for k in
                                      ("cpu_model", "arch", "cores") if r["fingerprint"].get(k))}
                for r in runs]
    return template.render(targets=targets, headers=HEADERS, runs=run_rows, summary=summary,
                           data=Markup(data))
