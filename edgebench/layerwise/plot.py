"""``edgebench diff --svg``: PSNR down the network, one point per matched tensor.

A self-contained SVG (no script, no external font): each point's tooltip names the module
and its cosine, PSNR and max abs error; points with a cosine under ``LOW_COSINE`` are red.
Every name is escaped.
"""

from __future__ import annotations

from html import escape

from . import PSNR_CAP_DB, LayerDiff

LOW_COSINE = 0.99
WIDTH, HEIGHT = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 40, 110
MAX_LABELS = 40


def svg(diff: LayerDiff) -> str:
    rows = diff.rows
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_db = max(10.0, min(PSNR_CAP_DB, max((r.psnr_db for r in rows), default=10.0)))
    top_db = 10.0 * -(-top_db // 10)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (len(rows) - 1) if len(rows) > 1 else plot_w / 2)

    def y(db: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(db, top_db)) / top_db)

    title = (f"{diff.model} {diff.format}-{diff.precision}: PSNR against FP32 PyTorch, "
             f"{diff.samples} images of {diff.dataset}")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="13">{escape(title)}</text>']
    for k in range(0, int(top_db) + 1, 10):
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(k):.1f}" y2="{y(k):.1f}" '
                   f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(k) + 4:.1f}" '
                   f'text-anchor="end">{k}</text>')
    out.append(f'<text x="14" y="{TOP + plot_h / 2:.0f}" transform="rotate(-90 14 '
               f'{TOP + plot_h / 2:.0f})" text-anchor="middle">PSNR dB</text>')
    if rows:
        points = " ".join(f"{x(i):.1f},{y(r.psnr_db):.1f}" for i, r in enumerate(rows))
        out.append(f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    step = max(1, -(-len(rows) // MAX_LABELS))
    for i, r in enumerate(rows):
        colour = "#d62728" if r.cosine < LOW_COSINE else "#1f77b4"
        tip = (f"{r.module} ({r.kind}, {r.op}): cosine {r.cosine:.5f}, PSNR {r.psnr_db:.1f} dB, "
               f"max abs {r.max_abs:.3g}")
        out.append(f'<circle cx="{x(i):.1f}" cy="{y(r.psnr_db):.1f}" r="3" fill="{colour}">'
                   f"<title>{escape(tip)}</title></circle>")
        if i % step == 0 or i == len(rows) - 1:
            ly = HEIGHT - BOTTOM + 8
            out.append(f'<text x="{x(i):.1f}" y="{ly}" transform="rotate(60 {x(i):.1f} {ly})" '
                       f'font-size="9">{escape(r.module)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
