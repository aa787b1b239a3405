"""The ``edgebench`` command: click options, console tables, typed errors mapped to exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__, errors, formats, harness, zoo

# Most specific first: the first matching class decides the exit code.
EXIT_CODES: tuple[tuple[type[errors.EdgebenchError], int], ...] = (
    (errors.UserInputError, 2),
    (errors.ValidationDegradedError, 3),
    (errors.ValidationFailedError, 4),
    (errors.DependencyMissingError, 5),
    (errors.WeightsUnavailableError, 6),
    (errors.DataUnavailableError, 6),
    (errors.OutputError, 7),
    (errors.ExportError, 8),
    (errors.CellsFailedError, 9),
    (errors.EdgebenchError, 1),
)
EXIT_INTERRUPTED = 130


def exit_code(error: errors.EdgebenchError) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


def _console(stderr: bool = False):
    from rich.console import Console

    console = Console(stderr=stderr, soft_wrap=False)
    if not console.is_terminal:  # rich's 80-column default cuts tables in pipes and logs
        console = Console(stderr=stderr, soft_wrap=False, width=160)
    return console


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


class _Group(click.Group):
    """Runs subcommands with typed errors turned into one line and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except errors.EdgebenchError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(exit_code(e))
        except KeyboardInterrupt:
            click.echo("error: interrupted: nothing half-written was kept; run the command again", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgebench")
def cli():
    """Export image classifiers to ONNX, validate every artifact, benchmark them.

    \b
    Example:
      edgebench list
      edgebench export resnet50 --weights random --out artifacts
    """


def _model_row(name: str) -> dict:
    entry = zoo.get(name)
    counts = zoo.counts(name)
    return {
        "name": name,
        "family": entry.family,
        "params_m": round(counts.params_m, 3) if counts else None,
        "gmacs": round(counts.gmacs, 3) if counts else None,
        "resolution": entry.resolution,
        "ref_top1": entry.ref_top1,
    }


@cli.command("list")
@click.argument("pattern", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def list_cmd(pattern, as_json):
    """List the model zoo, optionally filtered by a glob PATTERN.

    \b
    Example:
      edgebench list 'efficientnet_b*' --json
    """
    rows = [_model_row(n) for n in zoo.list_models(pattern)]
    if as_json:
        return _print_json(rows)
    from rich.table import Table

    table = Table(title=f"edgebench model zoo ({len(rows)} models)")
    for col, justify in (("name", "left"), ("family", "left"), ("params M", "right"),
                         ("GMACs", "right"), ("resolution", "right"), ("ref. top-1", "right")):
        table.add_column(col, justify=justify)
    for r in rows:
        table.add_row(r["name"], r["family"], f"{r['params_m']:.2f}", f"{r['gmacs']:.3f}",
                      str(r["resolution"]), f"{r['ref_top1']:.2f}" if r["ref_top1"] else "-")
    _console().print(table)


@cli.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def info(model, as_json):
    """Show one zoo entry in full: metadata, preprocessing, weights sources.

    \b
    Example:
      edgebench info efficientnet_lite0
    """
    entry = zoo.get(model)
    data = _model_row(model)
    imagenet = entry.imagenet
    data.update(
        num_classes=entry.num_classes,
        ref_top1_source=entry.ref_source or None,
        preprocess=entry.preprocess.to_dict(),
        classifier_weight=entry.head,
        weights={
            "imagenet": {"source": imagenet.describe(),
                         "available_offline": imagenet.locate() is not None} if imagenet else None,
            "random": "seeded random init (latency-only work)",
            "checkpoint": "PATH to a .pt/.pth/.safetensors state_dict (class count from its head)",
        },
        requires=list(entry.requires),
        description=entry.description or None,
    )
    if as_json:
        return _print_json(data)
    console = _console()
    for key, value in data.items():
        if isinstance(value, dict):
            console.print(f"[bold]{key}[/bold]:")
            for k, v in value.items():
                console.print(f"  {k}: {v}", highlight=False)
        else:
            console.print(f"[bold]{key}[/bold]: {value}", highlight=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def capabilities(as_json):
    """Show the capability table: format x precision x converter x runtime.

    \b
    Example:
      edgebench capabilities --json
    """
    rows = [{"format": c.format, "precision": c.precision, "converter": c.converter,
             "runtimes": list(c.runtimes), "tolerance": c.tolerance.to_dict()}
            for c in formats.CAPABILITIES]
    if as_json:
        return _print_json(rows)
    from rich.table import Table

    table = Table(title="supported exports")
    for col in ("format", "precision", "converter", "runtimes"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["format"], r["precision"], r["converter"], ", ".join(r["runtimes"]))
    _console().print(table)


def _split_formats(ctx, param, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not names:
        raise click.BadParameter("give at least one format")
    return names


@cli.command()
@click.argument("model")
@click.option("--formats", "formats_", default=None, callback=_split_formats,
              help=f"Comma-separated subset of {','.join(formats.FORMATS)} [default: all].")
@click.option("--int8", is_flag=True, help="Add INT8 artifacts (post-training static quantisation).")
@click.option("--fp16", is_flag=True, help="Add FP16 artifacts.")
@click.option("--bf16", is_flag=True, help="Add BF16 artifacts (OpenVINO's own precision).")
@click.option("--calib", default=None, metavar="SOURCE[:N]",
              help="INT8 calibration: a folder of images, fashion-mnist or random; N samples "
                   "[default: fashion-mnist:300].")
@click.option("--weights", default="imagenet", show_default=True,
              help="imagenet | random | PATH to a .pt/.pth/.safetensors state_dict.")
@click.option("--resolution", type=int, default=None,
              help="Input height and width in pixels [default: the model's native one].")
@click.option("--layout", type=click.Choice(["nchw", "nhwc"]), default="nchw", show_default=True,
              help="Input layout of the artifacts (nhwc: channels-last inputs).")
@click.option("--opset", type=int, default=17, show_default=True, help="ONNX opset.")
@click.option("--dynamic-batch", is_flag=True, help="Make the batch dimension dynamic (ONNX, OpenVINO).")
@click.option("--validate-samples", type=int, default=500, show_default=True,
              help="Held-out samples each artifact is validated on (photos, then Fashion-MNIST test).")
@click.option("--min-top1-agreement", type=click.FloatRange(0, 1), default=None,
              help="INT8 is 'degraded' below this top-1 agreement with FP32 [default: 0.98].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("artifacts"),
              show_default=True, help="Artifact tree root; MODEL/FORMAT-PRECISION/ inside.")
@click.option("--force", is_flag=True, help="Re-export even when a cached artifact matches.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def export(model, formats_, int8, fp16, bf16, calib, weights, resolution, layout, opset,
           dynamic_batch, validate_samples, min_top1_agreement, out_dir, force, as_json):
    """Export MODEL to ONNX, OpenVINO IR and TFLite; validate every artifact against PyTorch.

    FP32 is always made; --fp16, --bf16 and --int8 add precisions. Each artifact folder
    holds the model file(s) and manifest.json. An identical second export is a cache hit.
    Exit codes: 0 ok, 3 degraded, 4 validation failed, 2 bad input, 5 missing extra,
    6 weights or data unavailable, 7 output not writable, 8 export failed.

    \b
    Example:
      edgebench export resnet50 --int8
      edgebench export efficientnet_b0 --formats tflite --fp16 --weights ckpt.pt
      edgebench export resnet18 --weights random --formats onnx --json
    """
    from .export import ExportRequest, planned_steps, run

    for name in formats_ or ():
        formats.check_format(name)
    precisions = tuple(p for p, on in (("fp32", True), ("fp16", fp16), ("bf16", bf16),
                                       ("int8", int8)) if on)
    request = ExportRequest(
        model=model, formats=formats_ or tuple(formats.FORMATS), precisions=precisions,
        weights=weights, resolution=resolution, layout=layout, opset=opset,
        dynamic_batch=dynamic_batch, calib=calib, validate_samples=validate_samples,
        min_top1_agreement=min_top1_agreement, out_dir=out_dir, force=force,
        explicit_formats=formats_ is not None)

    def warn(message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    with _progress(planned_steps(request), f"export {model}") as step:
        results = run(request, step, warn)
    if as_json:
        _print_json([r.to_dict() for r in results])
    else:
        _print_export_table(model, results)
    _raise_for_results(model, results)


def _raise_for_results(model: str, results) -> None:
    """The worst outcome decides the exit: export failed, validation failed, degraded."""
    for status, error, label in (("export_failed", errors.ExportError, "export failed"),
                                 ("failed", errors.ValidationFailedError, "validation failed"),
                                 ("degraded", errors.ValidationDegradedError, "degraded")):
        hit = next((r for r in results if r.status == status), None)
        if hit:
            where = f" (artifact kept at {hit.artifact.path})" if hit.artifact else ""
            raise error(f"{model} {hit.key}: {label}: {hit.reason}{where}")


def _print_export_table(model: str, results) -> None:
    from rich.table import Table

    table = Table(title=f"{model}: exports")
    for col in ("format", "precision", "status", "size MB", "max abs diff", "min cosine",
                "top-1 agree", "export s", "cache"):
        table.add_column(col)
    for r in results:
        row = [r.format, r.precision, r.status]
        if r.artifact:
            m = r.artifact.manifest
            v = m["validation"]
            row += [f"{m['size_bytes'] / 1e6:.2f}", f"{v['max_abs_diff']:.2e}",
                    f"{v['min_cosine']:.6f}", f"{v['top1_agreement']:.0%}",
                    f"{m['export_seconds']:.1f}", "hit" if r.cached else "new"]
        else:
            row += ["-"] * 6
        table.add_row(*row)
    console = _console()
    console.print(table)
    for r in results:
        where = r.artifact.path if r.artifact else r.reason
        console.print(f"{r.key}: {where}", highlight=False, markup=False)


@cli.command()
@click.argument("artifacts", nargs=-1, required=True)
@click.option("--runtime", type=click.Choice(list(formats.RUNTIMES)), default=None,
              help="Runtime to use [default: every runtime that loads the format].")
@click.option("--device", default="cpu", show_default=True,
              help="Device; per runtime: " + "; ".join(
                  f"{r.name}: {r.devices}" for r in formats.RUNTIMES.values() if r.name != "null"))
@click.option("--threads", type=int, default=None, help="Inference threads [default: the runtime's].")
@click.option("--batch", type=int, default=1, show_default=True, help="Batch size.")
@click.option("--warmup", "warmup_runs", type=int, default=harness.DEFAULT_WARMUP_RUNS,
              show_default=True, help="Untimed runs before timing.")
@click.option("--min-runs", type=int, default=harness.DEFAULT_MIN_RUNS, show_default=True,
              help="Timed runs at least (and --min-seconds at least).")
@click.option("--min-seconds", type=float, default=harness.DEFAULT_MIN_SECONDS, show_default=True,
              help="Timed seconds at least (and --min-runs at least).")
@click.option("--max-seconds", type=float, default=harness.DEFAULT_MAX_SECONDS, show_default=True,
              help="Stop timing after this long even if --min-runs is not met.")
@click.option("--timeout", "timeout_s", type=float, default=600.0, show_default=True,
              help="Kill a cell's agent after this many seconds.")
@click.option("--hint", type=click.Choice(["latency", "throughput"]), default="latency",
              show_default=True, help="OpenVINO performance hint.")
@click.option("--xnnpack/--no-xnnpack", default=True, show_default=True, help="TFLite XNNPACK delegate.")
@click.option("--precision", type=click.Choice(["fp32", "fp16"]), default="fp32", show_default=True,
              help="torch backend precision (other runtimes run the artifact's own).")
@click.option("--cuda-graphs/--no-cuda-graphs", default=True, show_default=True,
              help="torch on CUDA: capture once, replay.")
@click.option("--channels-last/--no-channels-last", default=True, show_default=True,
              help="torch: channels-last memory format.")
@click.option("--weights", default="random", show_default=True,
              help="Weights for zoo:MODEL references (imagenet | random | PATH).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def bench(artifacts, runtime, device, threads, batch, warmup_runs, min_runs, min_seconds,
          max_seconds, timeout_s, hint, xnnpack, precision, cuda_graphs, channels_last, weights,
          as_json):
    """Measure latency of ARTIFACTS (folders, model files or zoo:MODEL), one process per cell.

    After the warm-up, each cell runs until both --min-runs and --min-seconds are met,
    then reports p50/p90/p99/mean/std/min/max, load and first-inference time, peak RSS,
    throughput, its settings and the device fingerprint. Exit 9 if any cell failed.

    \b
    Example:
      edgebench bench artifacts/resnet50/onnx-fp32 artifacts/resnet50/openvino-fp32 --threads 2
      edgebench bench zoo:resnet50 --runtime torch --device gpu --precision fp16 --batch 64
    """
    from .bench import BenchRequest, run
    from .runtimes import RuntimeSettings
    from .targets.local import LocalTarget

    request = BenchRequest(
        artifacts=tuple(artifacts), runtime=runtime, timeout_s=timeout_s, weights=weights,
        settings=RuntimeSettings(device=device, threads=threads, batch=batch, hint=hint,
                                 xnnpack=xnnpack, precision=precision, channels_last=channels_last,
                                 cuda_graphs=cuda_graphs),
        harness=harness.HarnessSettings(warmup_runs=warmup_runs, min_runs=min_runs,
                                        min_seconds=min_seconds, max_seconds=max_seconds))
    request.check()
    with _progress(len(artifacts) * 2, "bench") as step:
        rows = run(request, LocalTarget(), step)
    if as_json:
        _print_json(rows)
    else:
        _print_bench_table(rows)
    bad = [r for r in rows if r["status"] not in ("ok", "unsupported")]
    if bad:
        raise errors.CellsFailedError(
            f"{len(bad)} of {len(rows)} cells failed; first: {bad[0]['label']} in "
            f"{bad[0]['runtime']}: {bad[0]['status']}: {bad[0]['reason']}")


def _print_bench_table(rows) -> None:
    from rich.table import Table

    table = Table(title="edgebench bench (ms unless stated)")
    for col in ("artifact", "runtime", "thr", "batch", "status", "p50", "p90", "p99", "mean", "std",
                "load", "first", "RSS MB", "img/s", "size MB"):
        table.add_column(col, justify="left" if col in ("artifact", "runtime", "status") else "right")
    for r in rows:
        lat = r.get("latency") or {}
        s = r.get("settings") or {}

        def f(value, fmt="{:.2f}"):
            return fmt.format(value) if isinstance(value, (int, float)) else "-"

        label = r["label"]
        if not label.startswith("zoo:"):  # MODEL/FORMAT-PRECISION reads better than a long path
            label = "/".join(Path(label).parts[-2:])
        table.add_row(label, r["runtime"], str(s.get("threads") or "def"), str(s.get("batch", "")),
                      r["status"], f(lat.get("p50_ms")), f(lat.get("p90_ms")), f(lat.get("p99_ms")),
                      f(lat.get("mean_ms")), f(lat.get("std_ms")), f(r.get("load_ms"), "{:.0f}"),
                      f(r.get("first_inference_ms")), f(r.get("peak_rss_mb"), "{:.0f}"),
                      f(r.get("throughput_ips"), "{:.1f}"),
                      f(r["size_bytes"] / 1e6 if r.get("size_bytes") else None))
    console = _console()
    console.print(table)
    fp = next((r["fingerprint"] for r in rows if r.get("fingerprint")), None)
    if fp:
        console.print(f"device: {fp['cpu_model']} | {fp['arch']} {fp['bits']}-bit | {fp['cores']} cores"
                      f" | ISA {' '.join(fp['isa_flags']) or '-'} | governor {fp['governor'] or '-'}",
                      highlight=False)
    for r in rows:
        if r["status"] != "ok":
            console.print(f"{r['label']} ({r['runtime']}): {r['status']}: {r['reason']}",
                          highlight=False, markup=False)


class _NoProgress:
    def __enter__(self):
        return lambda step: None

    def __exit__(self, *exc):
        return False


def _progress(total: int, title: str):
    """A progress bar on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    class _Bar:
        def __enter__(self):
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     TimeElapsedColumn(), console=_console(stderr=True), transient=True)
            self.progress.__enter__()
            self.task = self.progress.add_task(title, total=total)
            self.started = False

            def step(description: str) -> None:
                if self.started:
                    self.progress.advance(self.task)
                self.started = True
                self.progress.update(self.task, description=f"{title}: {description}")

            return step

        def __exit__(self, *exc):
            self.progress.update(self.task, completed=total)
            return self.progress.__exit__(*exc)

    return _Bar()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="edgebench")


if __name__ == "__main__":
    main()
