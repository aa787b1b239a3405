"""``edgebench report``: the compatibility grid from the results store, and what to ship."""

from __future__ import annotations

from pathlib import Path

import click

from .. import api
from ..report.matrix import DEFAULT_FLOOR_POINTS
from .output import output, write_text


@click.command()
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=api.DEFAULT_STORE,
              show_default=True, help="Results store written by `edgebench sweep`.")
@click.option("--run", "run_id", type=int, default=None, help="Only this run [default: the "
              "latest answer of every cell, whichever run gave it].")
@click.option("--diff", "diff_runs", type=int, nargs=2, default=None, metavar="RUN_A RUN_B",
              help="What changed from RUN_A to RUN_B: slower and faster cells by ratio bucket, "
                   "cells that broke or started working, new and missing cells.")
@click.option("--floor", "floor_points", type=float, default=DEFAULT_FLOOR_POINTS, show_default=True,
              help="Top-1 points a recommended cell may lose against FP32.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Write the HTML report here: one file, no network needed to open it.")
@click.option("--md", "md_path", type=click.Path(path_type=Path), default=None, help="Write Markdown here.")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="Write CSV here.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Write JSON here ('-': standard output).")
def report(store_path, run_id, diff_runs, floor_points, html_path, md_path, csv_path, json_path):
    """The compatibility grid per target from the results store, and what to ship.

    Every (model, precision, format, runtime) cell with its status and reason, latency,
    throughput, size, accuracy and its drop from FP32, speed-up over FP32; per target the
    fastest and the smallest working cell within the accuracy floor. Emulated targets show
    no speeds. Reads only the store: no runtime is imported.

    \b
    Example:
      edgebench report --store results.db --html report.html --csv cells.csv
      edgebench report --store results.db --diff 3 4
    """
    from ..report import console
    from ..results import to_json

    if diff_runs:
        found = api.diff_runs(store_path, *diff_runs)
        _put(json_path, lambda: to_json(found.to_dict()), lambda: console.run_diff(found))
        return
    made = api.report(store_path, run=run_id, floor_points=floor_points)
    for path, text in ((md_path, made.to_markdown), (csv_path, made.to_csv),
                       (html_path, made.to_html)):
        if path is not None:
            write_text(path, text())
    if json_path is not None and _put(json_path, lambda: to_json(made.to_dict()), None):
        return
    with output():
        console.report(made.grid, made.recommendations)
        if html_path is not None:
            click.echo(f"HTML report: {html_path.resolve()}")


def _put(json_path: Path | None, json_text, table) -> bool:
    """JSON to standard output ('-') or a file, and the table when it is not on standard output;
    True when standard output got the JSON."""
    if json_path is not None and str(json_path) == "-":
        with output():
            click.echo(json_text())
        return True
    if table is not None:
        with output():
            table()
    if json_path is not None:
        write_text(json_path, json_text())
    return False


COMMANDS = (report,)
