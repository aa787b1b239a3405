"""The ``edgebench`` command: click options, calls and exit codes. Tables live in ``report``."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__, errors, formats, harness, limits, zoo
from .cli_options import runtime_knobs
from .targets import LOCAL
from .targets.emulate import BOARDS

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
_TARGET_HELP = "Where the agent runs: 'local' or a board from `edgebench targets list`."
_STORE_HELP = "Also add the results to this SQLite results store (for `edgebench report`)."


def exit_code(error: errors.EdgebenchError) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


class _Bounded(click.ParamType):
    """A number in a ``limits.Range``: NaN, infinity and out-of-range values are one line."""

    def __init__(self, rng: limits.Range):
        self.rng = rng
        self.name = "integer" if rng.integer else "number"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.rng.check(value)
        try:
            number = float(str(value).strip())
        except ValueError:
            number = str(value)  # check() names the option, the range and what was given
        return self.rng.check(number)


def _print_json(data) -> None:
    """Strict JSON (no NaN or Infinity) of typed results or plain data."""
    from .results import to_json

    click.echo(to_json(data))


def _emit(data, as_json: bool, table) -> None:
    """Print ``data`` as JSON, or through the console printer ``table``."""
    with _output():
        if as_json:
            _print_json(data)
        else:
            table(data)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as Ctrl-C does."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum, frame):
    raise Terminated(signum)


@contextmanager
def _output():
    """Writing the command's own output: a closed pipe or a full disk is one line, exit 7."""
    try:
        yield
        sys.stdout.flush()
    except OSError as e:
        try:  # nothing more can reach the reader; keep Python's exit flush quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        raise errors.OutputError(f"cannot write the results to standard output ({e.strerror or e}):"
                                 " what was made is on disk; rerun with a writable output") from e


class _Group(click.Group):
    """Runs subcommands with typed errors, usage errors and signals turned into one line and
    an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from .logs import user_stderr
        from .privacy import disable_telemetry

        disable_telemetry()
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _on_signal) if main_thread else None
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx else "edgebench"
            click.echo(f"error: {e.format_message()} (see '{where} --help')", file=user_stderr())
            code = 2
        except click.ClickException as e:
            click.echo(f"error: {e.format_message()}", file=user_stderr())
            code = e.exit_code
        except click.exceptions.Abort:
            click.echo("error: interrupted", file=user_stderr())
            code = EXIT_INTERRUPTED
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, previous)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        from .logs import quiet, user_stderr

        try:
            with quiet(ctx.params.get("verbose", False)):
                return super().invoke(ctx)
        except errors.EdgebenchError as e:
            click.echo(f"error: {e}", file=user_stderr())
            ctx.exit(exit_code(e))
        except KeyboardInterrupt as e:
            name = "terminated" if isinstance(e, Terminated) else "interrupted"
            click.echo(f"error: {name}: nothing half-written was kept; run the command again",
                       file=user_stderr())
            ctx.exit(128 + e.signum if isinstance(e, Terminated) else EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgebench")
@click.option("--verbose", is_flag=True, help="Show the converters' and runtimes' own log lines.")
def cli(verbose):
    """Export image classifiers to ONNX, OpenVINO IR and TFLite, validate every artifact,
    benchmark them.

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
    with _output():
        if as_json:
            return _print_json(rows)
        from .report import console

        console.models(rows)


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
    with _output():
        if as_json:
            return _print_json(data)
        from .report import console

        console.mapping(data)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def capabilities(as_json):
    """Show the capability table: format x precision x converter x runtimes.

    The first runtime of a row validates the export; every runtime listed can bench it.

    \b
    Example:
      edgebench capabilities --json
    """
    rows = [{"format": c.format, "precision": c.precision, "converter": c.converter,
             "converter_option": c.converter_name or formats.DEFAULT_CONVERTER, "runtimes": list(c.runtimes), "validated_by": c.validated_by,
             "calibrated": c.calibrated, "tolerance": c.tolerance.to_dict()}
            for c in formats.CAPABILITIES]
    with _output():
        if as_json:
            return _print_json(rows)
        from .report import console

        console.capabilities(rows)


def _split_formats(ctx, param, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not names:
        raise click.BadParameter("give at least one format")
    return names


# --fp16, --bf16, --int8 ...: one flag per precision of the table beyond FP32 (always made)
_EXTRA_PRECISIONS = tuple(p for p in formats.PRECISIONS.values() if p.name != "fp32")
_LAYOUTS = tuple(dict.fromkeys(lay for f in formats.FORMATS.values() for lay in f.layouts))


def _precision_flags(command):
    for spec in reversed(_EXTRA_PRECISIONS):
        where = ", ".join(c.format for c in formats.CAPABILITIES if c.precision == spec.name)
        command = click.option(f"--{spec.name}", is_flag=True,
                               help=f"Add {spec.name.upper()} artifacts: {spec.description} "
                                    f"({where}).")(command)
    return command


@cli.command()
@click.argument("model")
@click.option("--formats", "formats_", default=None, callback=_split_formats,
              help=f"Comma-separated subset of {','.join(formats.FORMATS)} [default: all].")
@_precision_flags
@click.option("--calib", default=None, metavar="SOURCE[:N]",
              help="INT8 calibration: a folder of images, fashion-mnist or random; N samples "
                   "[default: fashion-mnist:300].")
@click.option("--weights", default="imagenet", show_default=True,
              help="imagenet | random | PATH to a .pt/.pth/.safetensors state_dict.")
@click.option("--resolution", type=_Bounded(limits.RESOLUTION), default=None,
              help="Input height and width in pixels [default: the model's native one; "
                   f"{limits.RESOLUTION.describe()}].")
@click.option("--layout", type=click.Choice(_LAYOUTS), default=_LAYOUTS[0], show_default=True,
              help="Input layout of the artifacts (nhwc: channels-last inputs).")
@click.option("--opset", type=_Bounded(limits.OPSET), default=17, show_default=True,
              help=f"ONNX opset [{limits.OPSET.describe()}; the exporter may allow fewer].")
@click.option("--dynamic-batch", is_flag=True, help="Make the batch dimension dynamic (ONNX, OpenVINO).")
@click.option("--validate-samples", type=_Bounded(limits.VALIDATE_SAMPLES), default=500,
              show_default=True, help="Held-out samples each artifact is validated on (photos, "
              f"then Fashion-MNIST test) [{limits.VALIDATE_SAMPLES.describe()}, and what fits in memory].")
@click.option("--min-top1-agreement", type=_Bounded(limits.AGREEMENT), default=None,
              help="INT8 is 'degraded' below this top-1 agreement with FP32 [default: 0.98; 0 to 1].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("artifacts"),
              show_default=True, help="Artifact tree root; MODEL/FORMAT-PRECISION/ inside.")
@click.option("--force", is_flag=True, help="Re-export even when a cached artifact matches.")
@click.option("--converter", type=click.Choice(formats.converters()), default=formats.DEFAULT_CONVERTER,
              show_default=True, help="Another converter than each format's own: onnx2tf makes "
              "TFLite FP32 and INT8 from the ONNX export, in an environment of its own made on "
              "first use (artifact folders FORMAT-PRECISION-CONVERTER).")
@click.option("--accuracy-floor", "floor_text", default=None, metavar="99%|-1pt",
              help="With --int8: the least top-1 an INT8 artifact may keep, against FP32 PyTorch on "
              "the checkpoint's validation split; below it, the rescue ladder runs per format.")
@click.option("--floor-samples", type=_Bounded(limits.FLOOR_SAMPLES), default=None,
              help="Validation images the ladder scores each rung on [default: the whole split].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def export(model, formats_, calib, weights, resolution, layout, opset, dynamic_batch,
           validate_samples, min_top1_agreement, out_dir, force, converter, floor_text, floor_samples,
           as_json, **precision_flags):
    """Export MODEL to ONNX, OpenVINO IR and TFLite; validate every artifact against PyTorch.

    FP32 is always made; --fp16, --bf16 and --int8 add precisions. Each artifact is
    validated by its runtime in a process of its own; its folder holds the model file(s)
    and manifest.json. An identical second export is a cache hit.
    Exit codes: 0 ok, 3 degraded, 4 validation failed, 2 bad input, 5 missing extra,
    6 weights or data unavailable, 7 output not writable, 8 export failed,
    9 a validation crashed or timed out (rerun to redo only those).

    \b
    Example:
      edgebench export resnet50 --int8
      edgebench export efficientnet_b0 --formats tflite --fp16 --weights ckpt.pt
      edgebench export resnet18 --weights random --formats onnx --json
      edgebench export efficientnet_b0 --weights ckpt.pt --int8 --accuracy-floor 99%
      edgebench export efficientnet_b0 --formats tflite --int8 --converter onnx2tf
    \b
    With --accuracy-floor, an INT8 artifact below the floor climbs its format's rescue ladder
    (another calibration with 4x the samples, the most sensitive layers kept in float, 16-bit
    activations, FP16) until a rung meets it; every rung's top-1, size and p50 go into the
    chosen artifact's manifest (`rescue`). Exit 4 when a format has no rung that meets it.
    """
    from .export import ExportRequest, planned_steps, run
    from .export.rescue import AccuracyFloor
    from .report import console

    floor = AccuracyFloor.parse(floor_text) if floor_text is not None else None
    if floor is not None and not precision_flags["int8"]:
        raise errors.UserInputError("--accuracy-floor judges INT8 artifacts: add --int8")
    if floor_samples is not None and floor is None:
        raise errors.UserInputError("--floor-samples has no effect without --accuracy-floor")
    converter = formats.converter_name(converter)
    if floor is not None and converter is not None:
        raise errors.UserInputError(f"--accuracy-floor climbs each format's own converter's rungs, "
                                    f"not {converter}'s: drop --converter or --accuracy-floor")

    for name in formats_ or ():
        formats.check_format(name)
    precisions = ("fp32", *(p.name for p in _EXTRA_PRECISIONS if precision_flags[p.name]))
    request = ExportRequest(
        model=model, formats=formats_ or formats.made_by(converter), precisions=precisions,
        weights=weights, resolution=resolution, layout=layout, opset=opset,
        dynamic_batch=dynamic_batch, calib=calib, validate_samples=validate_samples,
        min_top1_agreement=min_top1_agreement, out_dir=out_dir, force=force,
        explicit_formats=formats_ is not None, converter=converter)

    with console.progress(planned_steps(request), f"export {model}") as step:
        cells = run(request, step, _warn)
    ladders = []
    if floor is not None:
        from .export import rescue

        with console.counter(f"rescue ladder {model}") as count:
            ladders = rescue.run(request, cells, floor, floor_samples,
                                 lambda text: count(0, 0, text), _warn)
    with _output():
        if as_json:
            cells_json = [c.to_dict() for c in cells]
            _print_json({"exports": cells_json, "rescue": [x.to_dict() for x in ladders]}
                        if floor is not None else cells_json)
        else:
            console.exports(model, cells)
            if ladders:
                console.ladders(ladders)
    # with a floor, the ladder judges the INT8 artifacts; every other artifact as always
    _raise_for_exports(model, [c for c in cells if floor is None or c.precision != "int8"])
    unmet = [x for x in ladders if not x.met]
    if unmet:
        x = unmet[0]
        best = max((r for r in x.rungs if r.top1 is not None), key=lambda r: r.top1, default=None)
        raise errors.ValidationFailedError(
            f"{model} {x.format}: no rung of the INT8 rescue ladder met the floor "
            f"({x.floor}: top-1 {_pct(x.threshold)}); best: "
            f"{f'{best.name} {best.top1:.2f}%' if best else 'none scored'}; every rung is in "
            f"{x.rungs[0].folder or 'the output'}/manifest.json")


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}%"


# The worst status decides an export's exit: most severe first.
_EXPORT_FAILURES: tuple[tuple[tuple[str, ...], type[errors.EdgebenchError], str], ...] = (
    (("export_failed",), errors.ExportError, "export failed"),
    (("crashed", "timeout", "infra_error", "interrupted"), errors.CellsFailedError,
     "validation did not finish"),
    (("failed", "load_failed", "run_failed"), errors.ValidationFailedError, "validation failed"),
    (("degraded",), errors.ValidationDegradedError, "degraded"),
)


def _raise_for_exports(model: str, cells) -> None:
    for statuses, error, label in _EXPORT_FAILURES:
        hit = next((c for c in cells if c.status in statuses), None)
        if hit:
            where = f" (artifact kept at {hit.path})" if hit.path else ""
            status = f" ({hit.status})" if hit.status != label else ""
            raise error(f"{model} {hit.label}: {label}{status}: {hit.reason}{where}")


def _warn(message: str) -> None:
    from .logs import user_stderr

    click.echo(f"warning: {message}", file=user_stderr())


def _say(message: str) -> None:
    from .logs import user_stderr

    click.echo(message, file=user_stderr())


@cli.command()
@click.argument("model")
@click.option("--dataset", required=True, metavar="D[:PATH][:split][:N]",
              help="Labelled data: fashion-mnist, cifar10[:PATH], imagenet-val:PATH or "
                   "imagefolder:PATH; the train split unless one is named; N: its first N images.")
@click.option("--epochs", type=_Bounded(limits.EPOCHS), default=5, show_default=True,
              help=f"Passes over the training images [{limits.EPOCHS.describe()}].")
@click.option("--resolution", type=_Bounded(limits.RESOLUTION), default=None,
              help="Input size in pixels [default: 32 for 32-px-or-smaller data sets trained "
                   f"from scratch, else the model's native one; {limits.RESOLUTION.describe()}].")
@click.option("--freeze-backbone", is_flag=True,
              help="Train only the new head on the frozen pretrained backbone's features.")
@click.option("--lr", type=_Bounded(limits.LEARNING_RATE), default=3e-3, show_default=True,
              help="Peak learning rate of the one-cycle schedule (AdamW).")
@click.option("--batch", type=_Bounded(limits.TRAIN_BATCH), default=128, show_default=True,
              help="Training batch size.")
@click.option("--test-samples", type=_Bounded(limits.TEST_SAMPLES), default=None,
              help="Test on the first N images of the evaluation split [default: all of it].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Checkpoint file (.pt or .safetensors) [default: checkpoints/MODEL-DATASET.pt].")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
              help=_STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def train(model, dataset, epochs, resolution, freeze_backbone, lr, batch, test_samples, out,
          store_path, as_json):
    """Fine-tune MODEL on a labelled data set: a checkpoint that export and eval understand.

    The new head is sized to the data set's classes; the backbone starts from ImageNet
    weights when this machine has them, else from random initialisation (said so). The
    checkpoint holds the classes, preprocessing, recipe, test accuracy and data set hash:
    `edgebench export MODEL --weights FILE` then calibrates on the data set's train split
    and validates on its test split with no other flags.

    \b
    Example:
      edgebench train resnet18 --dataset fashion-mnist --epochs 7 --out resnet18-fm.pt
      edgebench train efficientnet_lite0 --dataset fashion-mnist:train:10000 --freeze-backbone --resolution 96
      edgebench train efficientnet_b0 --dataset fashion-mnist:train:2000 --epochs 2 --test-samples 1000 --store results.db
    (--store keeps the time per epoch for `edgebench compare`.)
    """
    from .report import console
    from .train import TrainRequest, TrainProgress, run

    request = TrainRequest(model=model, dataset=dataset, epochs=epochs, resolution=resolution,
                           freeze_backbone=freeze_backbone, lr=lr, batch=batch, out=out,
                           test_samples=test_samples)
    request.check()
    store, started = _open_store(store_path), time.time()
    with console.counter(f"train {model}") as step:
        result = run(request, _warn, TrainProgress(step=step, line=_say))
    _store(store, [result], started)
    with _output():
        if as_json:
            _print_json(result.to_dict())
        else:
            console.trained(result)


@cli.command()
@click.argument("artifacts", nargs=-1, required=True)
@click.option("--runtime", default=None, metavar="R[,R...]",
              help=f"Runtimes to use: {', '.join(formats.RUNTIMES)}, or one pinned to a version "
              "(onnxruntime==1.16.3, set up by `edgebench targets bootstrap TARGET --runtimes ...`) "
              "[default: every runtime that loads the format].")
@click.option("--device", default="cpu", show_default=True,
              help="Device; per runtime: " + "; ".join(
                  f"{r.name}: {r.devices}" for r in formats.RUNTIMES.values() if not r.any_format))
@click.option("--threads", type=_Bounded(limits.THREADS), default=None,
              help=f"Inference threads [default: the runtime's; {limits.THREADS.describe()}].")
@click.option("--batch", type=_Bounded(limits.BATCH), default=1, show_default=True,
              help=f"Batch size [{limits.BATCH.describe()}].")
@click.option("--warmup", "warmup_runs", type=_Bounded(limits.WARMUP), default=harness.DEFAULT_WARMUP_RUNS,
              show_default=True, help=f"Untimed runs before timing [{limits.WARMUP.describe()}].")
@click.option("--min-runs", type=_Bounded(limits.MIN_RUNS), default=harness.DEFAULT_MIN_RUNS,
              show_default=True, help="Timed runs at least (and --min-seconds at least) "
              f"[{limits.MIN_RUNS.describe()}].")
@click.option("--min-seconds", type=_Bounded(limits.MIN_SECONDS), default=harness.DEFAULT_MIN_SECONDS,
              show_default=True, help="Timed seconds at least (and --min-runs at least) "
              f"[{limits.MIN_SECONDS.describe()}].")
@click.option("--max-seconds", type=_Bounded(limits.MAX_SECONDS), default=harness.DEFAULT_MAX_SECONDS,
              show_default=True, help="Stop timing after this long even if --min-runs is not met "
              f"(the cell then says so) [{limits.MAX_SECONDS.describe()}, not below --min-seconds].")
@click.option("--timeout", "timeout_s", type=_Bounded(limits.TIMEOUT), default=600.0,
              show_default=True, help="Kill a cell's agent after this many seconds "
              f"[{limits.TIMEOUT.describe()}].")
@runtime_knobs
@click.option("--weights", default="random", show_default=True,
              help="Weights for zoo:MODEL references (imagenet | random | PATH).")
@click.option("--target", "target_name", default="local", show_default=True, help=_TARGET_HELP)
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
              help=_STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def bench(artifacts, runtime, device, threads, batch, warmup_runs, min_runs, min_seconds,
          max_seconds, timeout_s, knobs, weights, target_name, store_path, as_json):
    """Measure latency of ARTIFACTS (folders, model files or zoo:MODEL), one process per cell.

    After the warm-up, each cell runs until both --min-runs and --min-seconds are met,
    then reports p50/p90/p99/mean/std/min/max, load and first-inference time, peak RSS,
    throughput, its settings and the device fingerprint. Exit 9 if any cell failed.

    \b
    Example:
      edgebench bench artifacts/resnet50/onnx-fp32 artifacts/resnet50/openvino-fp32 --threads 2
      edgebench bench zoo:resnet50 --runtime torch --device gpu --precision fp16 --batch 64
      edgebench bench zoo:resnet50 --runtime torch --device gpu --precision fp16 --compile
      edgebench bench artifacts/resnet18/tflite-int8 --target pi5
      edgebench bench artifacts/resnet18/onnx-int8 --runtime onnxruntime,onnxruntime==1.16.3
    """
    from .bench import BenchRequest, plan, run
    from .report import console
    from .runtimes import RuntimeSettings

    request = BenchRequest(
        artifacts=tuple(artifacts), runtime=runtime, timeout_s=timeout_s, weights=weights,
        settings=RuntimeSettings(device=device, threads=threads, batch=batch, **knobs),
        harness=harness.HarnessSettings(warmup_runs=warmup_runs, min_runs=min_runs,
                                        min_seconds=min_seconds, max_seconds=max_seconds))
    request.check()
    store = _open_store(store_path)
    with _target(target_name) as target, console.progress(len(plan(request)), "bench") as step:
        started = time.time()
        cells = run(request, target, step)
    _store(store, cells, started)
    with _output():
        if as_json:
            _print_json([c.to_dict() for c in cells])
        else:
            console.latencies(cells)
    bad = [c for c in cells if c.status.is_failure]
    if bad:
        raise errors.CellsFailedError(
            f"{len(bad)} of {len(cells)} cells failed; first: {bad[0].label} in "
            f"{bad[0].runtime}: {bad[0].status}: {bad[0].reason}")


def _raise_for_rows(rows) -> None:
    """Exit 9 when a row failed or did not run, else 3 when one is degraded."""
    bad = [r for r in rows if r.status.is_failure]
    if bad:
        raise errors.CellsFailedError(f"{len(bad)} of {len(rows)} rows failed; first: {bad[0].label} "
                                      f"in {bad[0].runtime}: {bad[0].status}: {bad[0].reason}")
    degraded = [r for r in rows if r.status == "degraded"]
    if degraded:
        raise errors.ValidationDegradedError(f"{len(degraded)} of {len(rows)} rows degraded; first: "
                                             f"{degraded[0].label}: {degraded[0].reason}")


@cli.command("eval")
@click.argument("artifacts", nargs=-1, required=True)
@click.option("--dataset", default=None, metavar="D[:PATH][:split][:N]",
              help="Labelled data: fashion-mnist, cifar10[:PATH], imagenet-val:PATH or "
                   "imagefolder:PATH; its test (or val) split unless one is named; N: its first N "
                   "images [default: the data set the artifacts were trained on].")
@click.option("--runtime", default=None, metavar="R[,R...]",
              help=f"Runtimes to score in: {', '.join(formats.RUNTIMES)}, or pinned to a "
              "version (onnxruntime==1.16.3); with several, each artifact runs in those that load "
              "its format [default: the format's own: onnxruntime, openvino, tflite].")
@click.option("--weights", default="random", show_default=True,
              help="Weights for zoo:MODEL (imagenet | random | PATH to a checkpoint).")
@click.option("--target", "target_name", default="local", show_default=True, help=_TARGET_HELP)
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
              help=_STORE_HELP)
@click.option("--threads", type=_Bounded(limits.THREADS), default=None,
              help=f"Inference threads [default: all cores; {limits.THREADS.describe()}].")
@click.option("--batch", type=_Bounded(limits.BATCH), default=64, show_default=True,
              help="Batch for dynamic-batch artifacts and PyTorch (static ones run their own).")
@click.option("--timeout", "timeout_s", type=_Bounded(limits.TIMEOUT), default=3600.0,
              show_default=True, help="Kill an artifact's agent after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def eval_cmd(artifacts, dataset, runtime, weights, target_name, store_path, threads, batch,
             timeout_s, as_json):
    """Score ARTIFACTS (folders, model files or zoo:MODEL) on labelled data.

    Top-1, top-5 and per-class accuracy, top-1 agreement with the FP32 PyTorch reference
    and the drop in points from it. Inputs are preprocessed once on the host (the model's
    own preprocessing, from its manifest or checkpoint) into a tensor file; the agent runs
    it on the target. A row is 'degraded' when it loses more than its precision allows
    (FP32 0.1, FP16 0.3, INT8 1.0 points). Exit 3 if any row is degraded, 9 if any failed.

    \b
    Example:
      edgebench eval artifacts/resnet18/* zoo:resnet18 --weights resnet18-fm.pt
      edgebench eval artifacts/resnet18/onnx-int8 --dataset fashion-mnist:test:1000 --json
      edgebench eval artifacts/resnet18/* --target rpi4 --dataset fashion-mnist:test:500
      edgebench eval artifacts/resnet18/onnx-int8 --runtime onnxruntime==1.16.3,onnxruntime
    """
    from .evaluate import EvalRequest, run
    from .report import console

    request = EvalRequest(artifacts=tuple(artifacts), dataset=dataset, runtime=runtime,
                          weights=weights, threads=threads, batch=batch, timeout_s=timeout_s)
    request.check()
    store = _open_store(store_path)
    with _target(target_name) as target, console.progress(
            3 * len(artifacts) * max(1, len(formats.parse_runtimes(runtime))) + 1, "eval") as step:
        started = time.time()
        cells = run(request, target, step, _warn)
    _store(store, cells, started)
    with _output():
        if as_json:
            _print_json([c.to_dict() for c in cells])
        else:
            console.accuracies(cells)
    _raise_for_rows(cells)


@cli.command()
@click.argument("artifact")
@click.option("--samples", type=_Bounded(limits.DIFF_SAMPLES), default=16, show_default=True,
              help="Images to compare on.")
@click.option("--dataset", default=None, metavar="D[:PATH][:split]",
              help="Images to feed [default: the checkpoint's validation split, else "
                   "fashion-mnist:test].")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write PSNR down the network as an SVG plot here.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def diff(artifact, samples, dataset, svg_path, as_json):
    """Layer-wise numerics of ARTIFACT against its FP32 PyTorch reference.

    Every module output the artifact still has (convolutions and batch norms are folded
    together by every format, so blocks, activations, pools and the classifier) is compared
    on the same images: cosine, PSNR and max abs error, in the artifact's execution order.
    The largest PSNR drops are where precision is lost: the layers to keep in float.

    \b
    Example:
      edgebench diff artifacts/efficientnet_b0/onnx-int8
      edgebench diff artifacts/resnet18/tflite-int8 --samples 32 --svg r18-tflite.svg
      edgebench diff artifacts/resnet18/openvino-int8 --json
    """
    from .layerwise import DiffRequest, run
    from .report import console

    with console.counter(f"diff {artifact}") as count:
        found = run(DiffRequest(artifact, samples, dataset), lambda text: count(0, 0, text))
    if svg_path is not None:
        from .layerwise.plot import svg

        _write_text(svg_path, svg(found))
    with _output():
        if as_json:
            _print_json(found.to_dict())
        else:
            console.layer_diff(found)
            if svg_path is not None:
                console.console().print(f"plot: {svg_path}")


@cli.command()
@click.argument("artifacts", nargs=-1, required=True)
@click.option("--target", "target_name", required=True, help="The board to check (not local: "
              "this host is the other side).")
@click.option("--runtime", default=None, metavar="R[,R...]",
              help="Runtimes, or pinned versions (onnxruntime==1.16.3); each artifact runs in "
                   "those that load its format [default: the format's own].")
@click.option("--dataset", default="fashion-mnist:test:32", show_default=True,
              metavar="D[:PATH][:split][:N]", help="Images to feed (labels are not used).")
@click.option("--weights", default="random", show_default=True,
              help="Weights for zoo:MODEL (imagenet | random | PATH); an artifact's FP32 "
                   "PyTorch reference is rebuilt from the weights its manifest names.")
@click.option("--batch", type=_Bounded(limits.BATCH), default=8, show_default=True,
              help="Batch for dynamic-batch artifacts.")
@click.option("--timeout", "timeout_s", type=_Bounded(limits.TIMEOUT), default=900.0,
              show_default=True, help="Kill an artifact's agent after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def validate(artifacts, target_name, runtime, dataset, weights, batch, timeout_s, as_json):
    """Check that ARTIFACTS compute on a board what they compute on this host.

    Each artifact runs on the target and here on the same input tensors; the outputs are
    compared under the precision's tolerance, and both sides against FP32 PyTorch on this
    host. An FP16 or INT8 artifact that passes here and not on the board (a core with real
    FP16 arithmetic, another kernel path) is reported as such. Exit 3 if any artifact is
    degraded, 9 if any failed or could not run there.

    \b
    Example:
      edgebench validate artifacts/efficientnet_b0/*-fp16 --target rpi5
      edgebench validate artifacts/resnet18/onnx-int8 --target rpi4 \\
          --runtime onnxruntime,onnxruntime==1.16.3 --json
    """
    from .compat import against_host
    from .evaluate import EvalRequest
    from .report import console

    if target_name == LOCAL:
        raise errors.UserInputError("validate compares a target with this host: name a board "
                                    "(--target rpi4)")
    request = EvalRequest(artifacts=tuple(artifacts), dataset=dataset, runtime=runtime,
                          weights=weights, batch=batch, timeout_s=timeout_s)
    request.check()
    steps = len(artifacts) * max(1, len(formats.parse_runtimes(runtime)))
    with _target(target_name) as target, console.progress(steps, "validate") as step:
        rows = against_host(request, target, step)
    with _output():
        if as_json:
            _print_json([r.to_dict() for r in rows])
        else:
            console.numerics(rows, target_name)
    _raise_for_rows(rows)


@cli.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--store", "store_path", default=None,
              help="Results store (SQLite) [default: the file's `store`, else edgebench.db].")
@click.option("--cluster", default=None, metavar="tcp://HOST:8786",
              help="Run the work on this Dask scheduler's workers (`edgebench cluster worker`) "
              "[default: the file's `cluster`, else this machine].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def sweep(config, store_path, cluster, as_json):
    """Measure a matrix (models x formats x precisions x runtimes x targets) into the store.

    CONFIG is a TOML file; its keys: models, formats, precisions, runtimes, targets, weights,
    dataset, resolution, threads, batch, warmup_runs, min_runs, min_seconds, max_seconds,
    timeout_s, out, store, device, torch_modes, cluster, no_worker_timeout_s. Artifacts are
    exported once; every finished cell is committed on its own. With a dataset (and a
    checkpoint as weights) every artifact is also scored on it. Run the same command again
    after a crash or Ctrl-C: only cells without an answer run. With --cluster, exports run on
    workers offering `export` and each target's cells on the worker for its board; the
    artifacts folder (`out`) must be at the same path on every worker (a shared file system).

    \b
    Example (sweep.toml):
      models = ["resnet18", "efficientnet_b0"]
      precisions = ["fp32", "int8"]
      targets = ["local", "rpi4"]
    \b
      edgebench sweep sweep.toml --store results.db
      edgebench sweep sweep.toml --cluster tcp://10.0.0.5:8786
    """
    from dataclasses import replace

    from .report import console
    from .store import Store
    from .sweep import SweepConfig, executor_for, run, with_store

    settings = with_store(SweepConfig.from_toml(config), store_path)
    settings = replace(settings, cluster=cluster) if cluster else settings
    with Store(settings.store) as store, store.exclusive():
        executor = executor_for(settings)
        with console.counter("sweep") as step:
            result = run(settings, store, sys.argv, step, _warn, executor)
    latencies = [r for r in result.measured if r.KIND == "latency"]
    with _output():
        if as_json:
            _print_json({"run": result.run_id, "store": settings.store, "skipped": result.skipped,
                         "measured": [r.to_dict() for r in result.measured]})
        else:
            if latencies:
                console.latencies(latencies)
            click.echo(f"run {result.run_id}: {len(result.measured)} cells measured, "
                       f"{result.skipped} already in {settings.store}")


@cli.command()
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=Path("edgebench.db"),
              show_default=True, help="Results store written by `edgebench sweep`.")
@click.option("--run", "run_id", type=int, default=None, help="Only this run [default: the "
              "latest answer of every cell, whichever run gave it].")
@click.option("--diff", "diff_runs", type=int, nargs=2, default=None, metavar="RUN_A RUN_B",
              help="What changed from RUN_A to RUN_B: slower and faster cells by ratio bucket, "
                   "cells that broke or started working, new and missing cells.")
@click.option("--floor", "floor_points", type=float, default=1.0, show_default=True,
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
    import math

    from .report import console
    from .report.matrix import recommend, rows, to_csv, to_markdown
    from .results import to_json
    from .store import Store

    if not math.isfinite(floor_points) or floor_points < 0:
        raise errors.UserInputError(f"--floor {floor_points}: give a number of points, 0 or more")
    if not store_path.exists():
        raise errors.UserInputError(f"no results store at {store_path}: run edgebench sweep first "
                                    "(or give --store)")
    with Store(store_path) as store:
        for wanted in [run_id, *(diff_runs or ())]:
            if wanted is not None and not store.run_exists(wanted):
                ids = [r["id"] for r in store.runs()]
                raise errors.UserInputError(f"run {wanted} is not in {store_path}: its runs are "
                                            f"{', '.join(map(str, ids)) or 'none'}")
        if diff_runs:
            return _diff(store, diff_runs, json_path)
        attempts = store.latest_attempts() if run_id is None else store.latest_attempts(run_id)
        runs = store.runs()
    grid = rows(attempts)
    recs = recommend(grid, floor_points)
    for path, text in ((md_path, lambda: to_markdown(grid, recs)), (csv_path, lambda: to_csv(grid)),
                       (html_path, lambda: _html(grid, recs, runs))):
        if path is not None:
            _write_text(path, text())
    if json_path is not None:
        data = to_json({"runs": runs, "cells": [r.to_dict() for r in grid],
                        "recommendations": [{"target": r.target, "why": r.why,
                                             "fastest": r.fastest.to_dict() if r.fastest else None,
                                             "smallest": r.smallest.to_dict() if r.smallest else None}
                                            for r in recs]})
        if str(json_path) == "-":
            with _output():
                click.echo(data)
            return
        _write_text(json_path, data)
    with _output():
        console.report(grid, recs)
        if html_path is not None:
            click.echo(f"HTML report: {html_path.resolve()}")


def _diff(store, runs: tuple[int, int], json_path: Path | None) -> None:
    from .report.diff import compare
    from .results import to_json

    a, b = ([x.record for x in store.latest_attempts(r)] for r in runs)
    diff = compare(runs[0], a, runs[1], b)
    with _output():
        if json_path is not None and str(json_path) == "-":
            click.echo(to_json(diff.to_dict()))
            return
        click.echo(f"run {runs[0]} -> run {runs[1]}: {diff.verdict} "
                   f"({diff.comparable} comparable cells)")
        for title, changes in (("slower", diff.regressions), ("faster", diff.progressions)):
            for c in sorted(changes, key=lambda c: -max(c.ratio, 1 / c.ratio)):
                click.echo(f"  {title} {c.bucket}: {c.label}: {c.before_ms:.2f} -> {c.after_ms:.2f} ms")
        for title, labels in (("broke", diff.broke), ("started working", diff.fixed),
                              ("new", diff.new), ("missing", diff.missing),
                              ("not compared (another device)", diff.other_device)):
            for label in labels:
                click.echo(f"  {title}: {label}")
    if json_path is not None:
        _write_text(json_path, to_json(diff.to_dict()))


def _open_store(path: Path | None):
    """The results store a command adds its cells to, opened (and so checked) before any work."""
    from .store import Store

    return Store(path) if path is not None else None


def _store(store, cells: list, started: float) -> None:
    """Add a command's cells to the results store, one transaction each, and close it."""
    if store is None:
        return
    from .fingerprint import collect

    with store:
        run_id = store.begin_run(sys.argv, {}, collect())
        for cell in cells:
            store.record(run_id, cell, started)
        store.finish_run(run_id)


def _html(grid, recs, runs) -> str:
    from .report.html import render

    return render(grid, recs, runs)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as e:
        raise errors.OutputError(f"cannot write {path}: {e.strerror or e}: choose another path") from e


@cli.command()
@click.argument("model_a")
@click.argument("model_b")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=Path("edgebench.db"),
              show_default=True, help="Results store with the measurements (edgebench sweep).")
@click.option("--target", "target_name", default=None, help="Only this target's latencies.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def compare(model_a, model_b, store_path, target_name, as_json):
    """MODEL_A against MODEL_B, and the published EfficientNet-vs-ResNet claims, measured here.

    Parameters, multiply-adds and published top-1 from the zoo; sizes per format and
    precision, latency per target and batch, peak memory and measured top-1 from the store.
    Each claim gets the value measured here, its conditions and a verdict (holds / does not
    hold / holds only at INT8 / not measurable here, and why).

    \b
    Example:
      edgebench compare resnet50 efficientnet_b0 --store results.db --target local
    """
    from .compare import check_claims, models_side_by_side
    from .store import Store

    zoo.get(model_a), zoo.get(model_b)
    records = []
    if store_path.exists():
        with Store(store_path) as store:
            records = [a.record for a in store.latest_attempts()]
    else:
        _warn(f"no results store at {store_path}: only the zoo's figures (edgebench sweep measures "
              "the rest)")
    side = models_side_by_side(model_a, model_b, records, target_name)
    source, verdicts = check_claims(records)
    with _output():
        if as_json:
            _print_json({"models": side, "claims_source": source,
                         "claims": [v.to_dict() for v in verdicts]})
            return
        for row in side:
            click.echo(f"{row['model']}: {row['params_m']} M params, {row['gmacs']} GMACs, published "
                       f"top-1 {row['published_top1']}%, peak RSS {row['peak_rss_mb'] or '-'} MB")
            for title in ("sizes_mb", "p50_ms", "measured_top1", "train_s_per_epoch"):
                for k, v in row[title].items():
                    click.echo(f"  {title.replace('_', ' ')}: {k}: {v}")
        click.echo(f"\nclaims ({source}):")
        for v in verdicts:
            click.echo(f"{v.id:>3}. {v.claim}\n     measured: {v.measured}\n     conditions: "
                       f"{v.conditions}\n     verdict: {v.verdict}")


def _target(name: str):
    """The target called ``name``: 'local' or a board added with `edgebench targets add`."""
    from .targets import open_target

    return open_target(name)


@cli.group()
def cluster():
    """Sweeps on a Dask cluster: a worker per board on a gateway host, and the cluster's state.

    \b
    Example:
      dask scheduler                                   # on one host: tcp://HOST:8786
      edgebench cluster worker tcp://HOST:8786 --export          # an x86 host for exports
      edgebench cluster worker tcp://HOST:8786 --board rpi4      # the gateway of board rpi4
      edgebench cluster status tcp://HOST:8786
      edgebench sweep sweep.toml --cluster tcp://HOST:8786
    """


@cluster.command("worker")
@click.argument("scheduler")
@click.option("--board", "boards", multiple=True, metavar="NAME",
              help="Drive this board (a target from `edgebench targets list`); the worker "
              "offers the resource board:NAME. Repeat for several boards, measured one at a time.")
@click.option("--export", is_flag=True, help="Also offer the resource `export` (exports run here).")
@click.option("--this-machine", is_flag=True,
              help="The boards are this host under those names (an x86 host as a board; tests).")
@click.option("--name", default=None, help="The worker's name in `edgebench cluster status`.")
def cluster_worker(scheduler, boards, export, this_machine, name):
    """Start a single-threaded Dask worker for boards and/or exports; runs until stopped.

    The board runs only the agent, over SSH, as in `edgebench bench --target NAME`: no Dask
    threads, heartbeats or profiler on its cores. Equivalent `dask worker` flags: --nthreads 1
    --resources "board:NAME=1" (its boards are then this host's target profiles).

    \b
    Example:
      edgebench cluster worker tcp://10.0.0.5:8786 --board rpi4
      edgebench cluster worker tcp://10.0.0.5:8786 --export
    """
    from .executors.cluster import WorkerSpec, serve

    spec = WorkerSpec(scheduler=scheduler, boards=tuple(boards), export=export,
                      this_machine=this_machine, name=name)
    serve(spec, lambda address: _say(f"worker {address}: offers {', '.join(spec.resources())} "
                                     f"to {scheduler} (Ctrl-C stops it)"), _say)


@cluster.command("status")
@click.argument("scheduler")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def cluster_status(scheduler, as_json):
    """List the workers of a Dask scheduler, their boards and the cells each is running.

    \b
    Example:
      edgebench cluster status tcp://10.0.0.5:8786 --json
    """
    from .executors.cluster import status
    from .report import console

    _emit(status(scheduler), as_json, console.cluster_status)


@cli.group()
def targets():
    """Boards reached over SSH, and emulated ones: add, list, check, bootstrap, emulate.

    \b
    Example:
      edgebench targets add pi5 --host pi5.local --user pi
      edgebench targets check pi5
      edgebench targets bootstrap pi5 --runtimes onnxruntime,tflite
      edgebench bench artifacts/resnet18/* --target pi5
    """


def _confirm_key(name: str, host: str, port: int, key: str, accept: bool, old: list[str]) -> None:
    from .targets.ssh import host_key_fingerprint

    if old:
        _say(f"{name}: the host key pinned before: {', '.join(host_key_fingerprint(k) for k in old)}")
    _say(f"{name}: {host}:{port} offers host key {key.split()[0]} {host_key_fingerprint(key)}")
    if accept:
        return
    if not sys.stdin.isatty():
        raise errors.UserInputError("no terminal to confirm the host key on: check the "
                                    "fingerprint above, then pass --accept-new-host-key")
    if not click.confirm("Pin this host key for edgebench?", default=False, err=True):
        raise errors.UserInputError("host key not accepted: nothing was changed")


@targets.command("add")
@click.argument("name")
@click.option("--host", required=True, help="Host name or address of the board.")
@click.option("--port", type=int, default=22, show_default=True, help="SSH port.")
@click.option("--user", default=None, help="Login name [default: yours, as ssh does].")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Private key file [default: your SSH agent and ~/.ssh keys].")
@click.option("--accept-new-host-key", "accept", is_flag=True,
              help="Pin the board's host key without asking (scripts; check its fingerprint).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def targets_add(name, host, port, user, key, accept, as_json):
    """Add a board: fetch its host key, show its fingerprint, pin it after confirmation.

    The key is pinned in edgebench's own known_hosts file; a changed key is refused later
    (a reflashed board: `edgebench targets rekey NAME`).

    \b
    Example:
      edgebench targets add pi5 --host 192.168.1.50 --user pi --key ~/.ssh/id_ed25519
    """
    from .targets import profiles
    from .targets.ssh import fetch_host_key

    profiles.check_name(name)
    profiles.check_port(port)
    if name in profiles.load():
        raise errors.UserInputError(f"target {name!r} exists: edgebench targets remove {name} "
                                    "first (or rekey it)")
    if key is not None and not key.is_file():
        raise errors.UserInputError(f"--key {key}: no such file: give your private key file")
    profile = profiles.Profile(name=name, host=host, port=port, user=user,
                               key=str(key.expanduser().resolve()) if key else None)
    host_key = fetch_host_key(host, port)
    _confirm_key(name, host, port, host_key, accept, [])
    profiles.pin_host_key(profile, host_key)
    profiles.save(profile)
    with _output():
        if as_json:
            _print_json(profile.to_dict())
        else:
            click.echo(f"added {name}: {profile.user or ''}{'@' if profile.user else ''}{host}:{port}"
                       f" (next: edgebench targets check {name})")


@targets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def targets_list(as_json):
    """List the boards edgebench knows ('local' is always there).

    \b
    Example:
      edgebench targets list --json
    """
    from .report import console
    from .targets import profiles

    rows = [p.to_dict() for p in profiles.load().values()]
    _emit(rows, as_json, console.target_list)


@targets.command("remove")
@click.argument("name")
def targets_remove(name):
    """Forget a board and its pinned host key (an emulated board's files stay: emulate --remove).

    \b
    Example:
      edgebench targets remove pi5
    """
    from .targets import profiles

    profiles.get(name)
    profiles.delete(name)
    click.echo(f"removed {name}")


@targets.command("rekey")
@click.argument("name")
@click.option("--accept-new-host-key", "accept", is_flag=True,
              help="Pin the new host key without asking (scripts; check its fingerprint).")
def targets_rekey(name, accept):
    """Pin a board's new host key (after a reflash), showing the old and new fingerprints.

    \b
    Example:
      edgebench targets rekey pi5
    """
    from .targets import profiles
    from .targets.ssh import fetch_host_key

    profile = profiles.get(name)
    key = fetch_host_key(profile.host, profile.port)
    _confirm_key(name, profile.host, profile.port, key, accept, profiles.pinned_keys(profile))
    profiles.pin_host_key(profile, key)
    click.echo(f"{name}: host key pinned")


@targets.command("check")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def targets_check(name, as_json):
    """Reach a board and describe it: arch, CPU, cores, OS, Python, runtimes, disk, Pi health.

    On a Raspberry Pi also the board model, SoC temperature, throttling and under-voltage
    flags and the frequency governor; a probe the board lacks reads "unknown". Exit 1 with
    the reason when the board cannot be reached.

    \b
    Example:
      edgebench targets check pi5 --json
    """
    from .report import console
    from .targets import TargetError
    from .targets.bootstrap import probe

    with _target(name) as target:
        try:
            info = _local_probe() if target.is_host else probe(target)
        except TargetError as e:  # said in the JSON too, then the exit code
            if as_json:
                _emit({"target": name, "reachable": False, "status": e.status.value,
                       "reason": str(e)}, True, None)
            raise
    info = {"target": name, "reachable": True, "emulated": target.emulated, **info}
    _emit(info, as_json, console.target_check)


def _local_probe() -> dict:
    import shutil

    from . import fingerprint

    return {**fingerprint.collect(), "disk_free_mb": shutil.disk_usage(".").free / 2**20,
            "python_executable": sys.executable}


@targets.command("bootstrap")
@click.argument("name")
@click.option("--runtimes", "runtimes_", default=None, metavar="R[,R...]",
              help="onnxruntime, openvino, tflite (ai-edge-litert), tflite-runtime (its own "
                   "environment, numpy<2), or an exact version in its own environment: "
                   "onnxruntime==1.16.3 [default: onnxruntime,openvino,tflite].")
@click.option("--wheels", type=click.Choice(["auto", "board", "host"]), default="auto",
              show_default=True, help="Where packages come from: the board's own pip, or wheels "
              "this host downloads for the board and uploads (auto: the board's, else the host's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def targets_bootstrap(name, runtimes_, wheels, as_json):
    """Set a board up: a virtual environment with numpy and the chosen runtimes.

    The agent itself is not installed: each run sends this edgebench's agent (once per
    version, content-addressed). A pinned runtime (NAME==VERSION) gets an environment of
    its own, on a board or on this machine ('local', in edgebench's cache); bench, eval
    and sweep then take --runtime NAME==VERSION.

    \b
    Example:
      edgebench targets bootstrap pi5 --runtimes onnxruntime,tflite-runtime --wheels host
      edgebench targets bootstrap local --runtimes onnxruntime==1.16.3,openvino==2024.0.0
    """
    from .report import console
    from .targets.bootstrap import bootstrap, parse_packages

    packages = parse_packages(runtimes_)
    if name == LOCAL:
        _bootstrap_local(packages, as_json)
        return
    with _target(name) as target:
        info = bootstrap(target, packages, wheels, _say)
    info = {"target": name, "reachable": True, "emulated": target.emulated, **info}
    _emit(info, as_json, console.target_check)


def _bootstrap_local(packages, as_json: bool) -> None:
    """Pinned runtimes on this machine; the rest is this environment's own (pip extras)."""
    from .formats import parse_runtime
    from .targets.envs import create, installed

    unpinned = [p.name for p in packages if not p.version]
    if unpinned:
        raise errors.UserInputError(f"'local' already has {', '.join(unpinned)} from pip (pip install "
                                    "'edgebench[all]'): pin a version for its own environment, "
                                    "like onnxruntime==1.16.3")
    for p in packages:
        create(parse_runtime(p.name), _say)
    _emit({"target": "local", "environments": installed()}, as_json,
          lambda d: click.echo("pinned runtimes here: " + (", ".join(d["environments"]) or "none")))


@targets.command("emulate")
@click.argument("board", type=click.Choice(list(BOARDS)))
@click.option("--port", type=int, default=2222, show_default=True,
              help="Loopback port of the board's SSH server.")
@click.option("--name", default=None, help="Target name [default: the board's].")
@click.option("--stop", is_flag=True, help="Stop the running board.")
@click.option("--remove", is_flag=True, help="Stop the board, delete its files and its target.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def targets_emulate(board, port, name, stop, remove, as_json):
    """Start an emulated Raspberry Pi (aarch64 Debian under qemu-user, SSH on 127.0.0.1).

    Linux host and root only (apt-get install qemu-user-static binfmt-support debootstrap).
    rpi4 is a Cortex-A72 (ARMv8.0), rpi5 a Cortex-A76 (ARMv8.2: FP16 arithmetic, dotprod).
    The first run builds the board into the cache folder (minutes; a second board is copied
    from the first in seconds, with its own host keys) with onnxruntime, OpenVINO,
    ai-edge-litert and tflite-runtime; later runs start it in about a second.
    It is registered as a target marked emulated: for compatibility and numerics, never
    speed (its latencies are kept out of speed tables).

    \b
    Example:
      edgebench targets emulate rpi4 && edgebench eval artifacts/resnet18/* --target rpi4
      edgebench targets emulate rpi5 --port 2223   # a Pi 5-class core beside it
      edgebench targets emulate rpi4 --stop
    """
    from .report import console
    from .targets import emulate, profiles
    from .targets.board import bring_up

    name = profiles.check_name(name or board)
    profiles.check_port(port)
    if remove or stop:
        done = emulate.remove(board) if remove else emulate.stop(board)
        if remove and name in profiles.load():
            profiles.delete(name)
        click.echo(f"{board}: {'removed' if remove else 'stopped'}" + ("" if done else " (it was not running)"))
        return
    with console.progress(3, f"emulate {board}") as bar:
        def step(text: str) -> None:  # minutes each: said in logs too, not only on the bar
            bar(text)
            _say(text)

        info = bring_up(board, name, port, step, _say)
    with _output():
        if as_json:
            _print_json(info)
        else:
            click.echo(f"{name}: emulated {emulate.BOARDS[board].description} on 127.0.0.1:{port}; "
                       f"built in {info['build_s']:.0f} s, started in {info['start_s']:.1f} s"
                       f" (next: edgebench targets check {name})")


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="edgebench")


if __name__ == "__main__":
    main()
