"""Console tables and the progress bar (rich, imported here only)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from ..results import AccuracyCell, ExportCell, LatencyCell, Status, TrainResult

WIDE_COLUMNS = 160  # rich's 80-column default cuts tables in pipes and logs


def console(stderr: bool = False):
    from rich.console import Console

    from ..logs import user_stderr

    file = user_stderr() if stderr else None
    out = Console(file=file, soft_wrap=False)
    return out if out.is_terminal else Console(file=file, soft_wrap=False, width=WIDE_COLUMNS)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _table(title: str, columns: Iterable[str], right: Iterable[str] = ()):
    from rich.table import Table

    table = Table(title=title)
    right = set(right)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left")
    return table


def _num(value, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else "-"


def models(rows: list[dict]) -> None:
    """``edgebench list``."""
    table = _table(f"edgebench model zoo ({len(rows)} models)",
                   ("name", "family", "params M", "GMACs", "resolution", "ref. top-1"),
                   right=("params M", "GMACs", "resolution", "ref. top-1"))
    for r in rows:
        table.add_row(r["name"], r["family"], _num(r["params_m"]), _num(r["gmacs"], "{:.3f}"),
                      str(r["resolution"]), _num(r["ref_top1"]))
    console().print(table)


def mapping(data: dict) -> None:
    """``edgebench info``: one entry, nested dicts indented."""
    out = console()
    for key, value in data.items():
        if isinstance(value, dict):
            out.print(f"[bold]{key}[/bold]:")
            for k, v in value.items():
                out.print(f"  {k}: {v}", highlight=False, markup=False)
        else:
            out.print(f"[bold]{key}[/bold]: ", end="")
            out.print(str(value), highlight=False, markup=False)


def capabilities(rows: list[dict]) -> None:
    table = _table("supported exports", ("format", "precision", "--converter", "converter", "runtimes"))
    for r in rows:
        table.add_row(r["format"], r["precision"], r["converter_option"], r["converter"],
                      ", ".join(r["runtimes"]))
    console().print(table)


def exports(model: str, cells: list[ExportCell]) -> None:
    """``edgebench export``: one row per artifact, then where each is (or why not)."""
    table = _table(f"{model}: exports", ("artifact", "status", "size MB", "max abs diff",
                                         "min cosine", "top-1 agree", "export s", "cache"),
                   right=("size MB", "max abs diff", "min cosine", "top-1 agree", "export s"))
    for c in cells:
        v = c.validation
        table.add_row(c.label, c.status.value,
                      _num(c.size_bytes / 1e6 if c.size_bytes else None),
                      _num(v.max_abs_diff if v else None, "{:.2e}"),
                      _num(v.min_cosine if v else None, "{:.6f}"),
                      _num(v.top1_agreement if v else None, "{:.0%}"),
                      _num(c.export_seconds, "{:.1f}"),
                      ("hit" if c.cached else "new") if c.path else "-")
    out = console()
    out.print(table)
    for c in cells:
        where = c.path if c.status == Status.OK else f"{c.status.value}: {c.reason}" + (
            f" (kept at {c.path})" if c.path else "")
        out.print(f"{c.label}: {where}", highlight=False, markup=False)


def trained(result: TrainResult) -> None:
    """``edgebench train``: the checkpoint and what it scored."""
    out = console()
    out.print(f"{result.model} on {result.dataset} ({len(result.classes)} classes, "
              f"{result.resolution} px, from {result.started_from} weights): {result.epochs} epochs "
              f"in {result.train_seconds / 60:.1f} min; test top-1 {result.test_top1:.2f}% on "
              f"{result.test_samples} images", highlight=False, markup=False)
    out.print(f"checkpoint: {result.checkpoint}", highlight=False, markup=False)


def _short_label(label: str) -> str:
    """MODEL/FORMAT-PRECISION reads better than a long path."""
    return label if label.startswith("zoo:") else "/".join(Path(label).parts[-2:])


def latencies(cells: list[LatencyCell]) -> None:
    """``edgebench bench``: the latency table, the device, then why any cell is not ok."""
    right = ("thr", "batch", "p50", "p90", "p99", "mean", "std", "load", "first", "RSS MB",
             "img/s", "size MB")
    table = _table("edgebench bench (ms unless stated)",
                   ("artifact", "runtime", *right[:2], "status", *right[2:]), right=right)
    emulated = sorted({c.target for c in cells if (c.fingerprint or {}).get("emulated")})
    for c in cells:
        lat = None if c.target in emulated else c.latency  # an emulation's timings are not speeds
        table.add_row(_short_label(c.label), c.runtime, str(c.settings.threads or "def"),
                      str(c.settings.batch), c.status.value,
                      *(_num(getattr(lat, f) if lat else None)
                        for f in ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms")),
                      _num(c.load_ms if lat else None, "{:.0f}"),
                      _num(c.first_inference_ms if lat else None),
                      _num(c.peak_rss_mb, "{:.0f}"), _num(c.throughput_ips if lat else None, "{:.1f}"),
                      _num(c.size_bytes / 1e6 if c.size_bytes else None))
    out = console()
    out.print(table)
    fp = next((c.fingerprint for c in cells if c.fingerprint), None)
    if fp:
        out.print(f"device: {fp['cpu_model']} | {fp['arch']} {fp['bits']}-bit | {fp['cores']} cores"
                  f" | ISA {' '.join(fp['isa_flags']) or '-'} | governor {fp['governor'] or '-'}",
                  highlight=False, markup=False)
    for name in emulated:
        out.print(f"{name} is an emulated board: its timings are not speeds and are left out "
                  "(compatibility and numerics only; --json keeps them, marked emulated)",
                  highlight=False, markup=False)
    for c in cells:
        if c.status != Status.OK:
            out.print(f"{c.label} ({c.runtime}): {c.status.value}: {c.reason}",
                      highlight=False, markup=False)


def accuracies(cells: list[AccuracyCell]) -> None:
    """``edgebench eval``: one row per artifact, per-class accuracy when classes are few."""
    right = ("images", "top-1 %", "top-5 %", "FP32 %", "drop pts", "agree", "img/s")
    title = f"edgebench eval on {cells[0].dataset}" if cells else "edgebench eval"
    table = _table(title, ("artifact", "runtime", "status", *right), right=right)
    for c in cells:
        table.add_row(_short_label(c.label), c.runtime, c.status.value, str(c.samples or "-"),
                      _num(c.top1), _num(c.top5), _num(c.reference_top1), _num(c.drop_points),
                      _num(c.top1_agreement, "{:.2%}"), _num(c.images_per_s, "{:.0f}"))
    out = console()
    out.print(table)
    scored = [c for c in cells if c.per_class]
    classes = list(scored[0].per_class) if scored else []
    if scored and len(classes) <= 20:
        per = _table("per-class top-1 %", ("class", *(_short_label(c.label) for c in scored)),
                     right=tuple(_short_label(c.label) for c in scored))
        for name in classes:
            per.add_row(name, *(_num(c.per_class.get(name), "{:.1f}") for c in scored))
        out.print(per)
    for c in cells:
        if c.note:
            out.print(f"note: {c.note}", highlight=False, markup=False)
            break
    for c in cells:
        if c.reason:
            out.print(f"{c.label} ({c.runtime}): {c.status.value}: {c.reason}",
                      highlight=False, markup=False)


def numerics(rows: list, target: str) -> None:
    """``edgebench validate``: each artifact on the target against the same on this host and
    both against FP32 PyTorch, as max difference relative to the largest reference logit."""
    right = ("images", "vs host", "host vs FP32", f"{target} vs FP32", "agree")
    table = _table(f"edgebench validate on {target}", ("artifact", "runtime", "status", *right),
                   right=right)
    for r in rows:
        host, board = (r.host_vs_reference or {}), (r.target_vs_reference or {})
        table.add_row(_short_label(r.label), r.runtime, r.status.value, str(r.samples or "-"),
                      _num(r.max_rel_diff, "{:.1e}"), _num(host.get("max_rel_diff"), "{:.1e}"),
                      _num(board.get("max_rel_diff"), "{:.1e}"), _num(r.top1_agreement, "{:.0%}"))
    out = console()
    out.print(table)
    for r in rows:
        if r.reason:
            out.print(f"{r.label} ({r.runtime}): {r.status.value}: {r.reason}",
                      highlight=False, markup=False)


class _NoProgress:
    def __enter__(self) -> Callable[[str], None]:
        return lambda step: None

    def __exit__(self, *exc):
        return False


class _Bar:
    """A rich progress bar on stderr; ``step(description)`` starts the next step."""

    def __init__(self, total: int, title: str):
        self.total, self.title = total, title

    def __enter__(self) -> Callable[[str], None]:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TimeElapsedColumn(), console=console(stderr=True), transient=True)
        self.progress.__enter__()
        self.task = self.progress.add_task(self.title, total=self.total)
        self.started = False

        def step(description: str) -> None:
            if self.started:
                self.progress.advance(self.task)
            self.started = True
            self.progress.update(self.task, description=f"{self.title}: {description}")

        return step

    def __exit__(self, *exc):
        self.progress.update(self.task, completed=self.total)
        return self.progress.__exit__(*exc)


class _Counter:
    """A rich bar for long loops: ``step(done, total, text)`` with counts and an ETA."""

    def __init__(self, title: str):
        self.title = title

    def __enter__(self) -> Callable[[int, int, str], None]:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=console(stderr=True), transient=True)
        self.progress.__enter__()
        self.task = self.progress.add_task(self.title, total=None)

        def step(done: int, total: int, text: str) -> None:
            self.progress.update(self.task, completed=done, total=total,
                                 description=f"{self.title}: {text}")

        return step

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


class _NoCounter(_NoProgress):
    def __enter__(self) -> Callable[[int, int, str], None]:
        return lambda done, total, text: None


def counter(title: str):
    """A counting progress bar with an ETA on stderr when it is a terminal; silent otherwise."""
    from ..logs import user_stderr

    return _Counter(title) if user_stderr().isatty() else _NoCounter()


def progress(total: int, title: str):
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    from ..logs import user_stderr

    return _Bar(total, title) if user_stderr().isatty() else _NoProgress()


def ladders(found) -> None:
    """``export --accuracy-floor``: each format's rescue ladder, the chosen rung marked."""
    for ladder in found:
        fp32, floor = pct(ladder.fp32_top1), pct(ladder.threshold)
        table = _table(f"{ladder.model} {ladder.format}: INT8 rescue ladder (floor {ladder.floor}: "
                       f"{floor}; FP32 PyTorch {fp32} on {ladder.dataset})",
                       ("rung", "name", "top-1 %", "size MB", "p50 ms", "status", "chosen"),
                       right=("top-1 %", "size MB", "p50 ms"))
        for r in ladder.rungs:
            table.add_row(str(r.rung), r.name, _num(r.top1, "{:.2f}"), _num(r.size_mb, "{:.2f}"),
                          _num(r.p50_ms, "{:.2f}"), r.status, "yes" if r.name == ladder.chosen else "")
        console().print(table)
        verdict = (f"chosen: {ladder.chosen}" if ladder.met else "unrescuable: no rung met the floor")
        if ladder.slower_than_fp32:
            verdict += f" (slower_than_fp32: FP32 p50 {ladder.fp32_p50_ms:.2f} ms)"
        console().print(verdict)


def layer_diff(diff, marked: int = 5) -> None:
    """``edgebench diff``: every matched tensor down the network; the largest PSNR drops marked."""
    from ..layerwise import largest_drops

    drops = {r.module for r in largest_drops(diff.rows, marked)}
    table = _table(f"{diff.model} {diff.format}-{diff.precision} against FP32 PyTorch "
                   f"({diff.samples} images of {diff.dataset})",
                   ("module", "kind", "op", "shape", "cosine", "PSNR dB", "max abs", "drop"),
                   right=("cosine", "PSNR dB", "max abs"))
    for r in diff.rows:
        table.add_row(escape(r.module), r.kind, r.op, "x".join(map(str, r.shape)), f"{r.cosine:.5f}",
                      f"{r.psnr_db:.1f}", f"{r.max_abs:.3g}", "<<" if r.module in drops else "")
    console().print(table)
    if diff.unmatched:
        console().print(f"{len(diff.unmatched)} module(s) with no tensor in the artifact: "
                        f"{escape(', '.join(diff.unmatched[:8]))}{' ...' if len(diff.unmatched) > 8 else ''}")
    worst = largest_drops(diff.rows, 1)
    if worst:
        console().print(f"largest PSNR drop: {escape(worst[0].module)} (to {worst[0].psnr_db:.1f} dB)")


def cluster_status(info: dict) -> None:
    """``edgebench cluster status``: each worker, what it offers and what it is running."""
    table = _table(f"Dask scheduler {info['scheduler']}", ("worker", "address", "boards", "export",
                                                           "in flight"))
    for w in info["workers"]:
        table.add_row(w["name"], w["address"], ", ".join(w["boards"]) or "-",
                      "yes" if w["export"] else "no", "; ".join(w["in_flight"]) or "-")
    console().print(table)
    if not info["workers"]:
        console().print("no workers: start one with `edgebench cluster worker SCHEDULER --board NAME`")


def target_list(rows: list[dict]) -> None:
    """``edgebench targets list``: 'local' first, then each board's address and environments."""
    table = _table("edgebench targets", ("name", "address", "key", "kind", "environments"))
    table.add_row("local", "this machine", "-", "local", "this Python")
    for r in rows:
        user = f"{r['user']}@" if r.get("user") else ""
        kind = f"emulated {r.get('board') or ''}".strip() if r.get("emulated") else "board"
        envs = ", ".join(f"{k}: {v}" for k, v in r.get("venvs", {}).items())
        table.add_row(r["name"], f"{user}{r['host']}:{r['port']}", r.get("key") or "default",
                      kind, envs)
    console().print(table)


def target_check(info: dict) -> None:
    """``edgebench targets check``: what the board says about itself; absent probes: unknown."""
    def known(value, unit: str = "") -> str:
        if value is None or value == [] or value == {}:
            return "unknown"
        return f"{value}{unit}"

    temps = info.get("temperatures_c") or {}
    flags = info.get("throttle_flags")
    rows = [
        ("target", f"{info['target']} (emulated: compatibility and numerics only)"
         if info.get("emulated") else info["target"]),
        ("reachable", "yes"),
        ("board", known(info.get("board"))),
        ("arch", f"{info.get('arch')} ({info.get('bits')}-bit)"),
        ("CPU", known(info.get("cpu_model"))),
        ("cores", f"{info.get('cores')} ({info.get('usable_cores')} usable)"),
        ("ISA", " ".join(info.get("isa_flags") or []) or "unknown"),
        ("OS", known(info.get("os"))),
        ("Python", f"{info.get('python')} ({info.get('python_executable')})"),
        ("runtimes", ", ".join(f"{k} {v}" for k, v in (info.get("versions") or {}).items()
                                if k != "edgebench") or "none: edgebench targets bootstrap"),
        ("free disk", known(round(info["disk_free_mb"]) if info.get("disk_free_mb") is not None
                            else None, " MB")),
        ("SoC temperature", ", ".join(f"{k} {v:.1f} C" for k, v in temps.items()) or "unknown"),
        ("throttling", "unknown" if flags is None else (", ".join(flags) or "none")),
        ("governor", known(info.get("governor"))),
    ]
    out = console()
    for key, value in rows:
        out.print(f"{key:>16}: {value}", highlight=False, markup=False)


def report(grid: list, recs: list) -> None:
    """``edgebench report``: the grid per target, then the recommendations."""
    out = console()
    for rec in recs:
        rows = [r for r in grid if r.target == rec.target]
        emulated = any(r.emulated for r in rows)
        right = ("p50", "p90", "img/s", "MB", "top-1", "drop", "vs FP32")
        table = _table(f"{rec.target}{' (emulated: no speeds)' if emulated else ''}",
                       ("model", "prec", "format", "runtime", "status", *right), right=right)
        for r in rows:
            table.add_row(r.model, r.precision, r.made_as, r.runtime, r.status, _num(r.p50_ms),
                          _num(r.p90_ms), _num(r.throughput_ips, "{:.1f}"), _num(r.size_mb, "{:.1f}"),
                          _num(r.top1), _num(r.drop_points), _num(r.speedup_vs_fp32, "{:.2f}x"))
        out.print(table)
        for label, row in (("fastest", rec.fastest), ("smallest", rec.smallest)):
            choice = f"{row.model} {row.precision} {row.made_as} in {row.runtime}" if row else "none"
            out.print(f"{rec.target}: {label}: {choice} ({rec.why})", highlight=False, markup=False)
        for r in rows:
            if r.status not in ("ok", "unsupported"):
                out.print(f"{r.model} {r.precision} {r.made_as} in {r.runtime}: {r.status}: "
                          f"{r.reason}", highlight=False, markup=False)
        for r in rows:
            if r.limit_note:
                out.print(f"{r.model} {r.precision} {r.made_as} in {r.runtime}: {r.limit_note} "
                          f"({r.status})", highlight=False, markup=False)


def pct(value: float | None) -> str:
    """A top-1 percentage, or 'unknown'."""
    return "unknown" if value is None else f"{value:.2f}%"


# Plain lines (click.echo, no rich markup): what scripts read from these commands' output.

def run_diff(diff) -> None:
    """``edgebench report --diff``: the verdict, then each change, the largest ratios first."""
    import click

    click.echo(f"run {diff.run_a} -> run {diff.run_b}: {diff.verdict} "
               f"({diff.comparable} comparable cells)")
    for title, changes in (("slower", diff.regressions), ("faster", diff.progressions)):
        for c in sorted(changes, key=lambda c: -max(c.ratio, 1 / c.ratio)):
            click.echo(f"  {title} {c.bucket}: {c.label}: {c.before_ms:.2f} -> {c.after_ms:.2f} ms")
    for title, labels in (("broke", diff.broke), ("started working", diff.fixed),
                          ("new", diff.new), ("missing", diff.missing),
                          ("not compared (another device)", diff.other_device)):
        for label in labels:
            click.echo(f"  {title}: {label}")


def comparison(found) -> None:
    """``edgebench compare``: each model's figures, then every claim with its verdict."""
    import click

    for row in found.models:
        click.echo(f"{row['model']}: {row['params_m']} M params, {row['gmacs']} GMACs, published "
                   f"top-1 {row['published_top1']}%, peak RSS {row['peak_rss_mb'] or '-'} MB")
        for title in ("sizes_mb", "p50_ms", "measured_top1", "train_s_per_epoch"):
            for k, v in row[title].items():
                click.echo(f"  {title.replace('_', ' ')}: {k}: {v}")
    click.echo(f"\nclaims ({found.claims_source}):")
    for v in found.claims:
        click.echo(f"{v.id:>3}. {v.claim}\n     measured: {v.measured}\n     conditions: "
                   f"{v.conditions}\n     verdict: {v.verdict}")


def swept(result, store) -> None:
    """``edgebench sweep``: the latencies measured now, then what the run did."""
    import click

    measured = [r for r in result.measured if r.KIND == "latency"]
    if measured:
        latencies(measured)
    click.echo(f"run {result.run_id}: {len(result.measured)} cells measured, "
               f"{result.skipped} already in {store}")
