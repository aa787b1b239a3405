"""``edgebench export``: every format and precision of a model, each artifact validated."""

from __future__ import annotations

from pathlib import Path

import click

from .. import api, formats, limits
from . import exits, options
from .options import Bounded
from .output import output, print_json, warn

# --fp16, --bf16, --int8 ...: one flag per precision of the table beyond FP32 (always made)
EXTRA_PRECISIONS = tuple(p for p in formats.PRECISIONS.values() if p.name != "fp32")
LAYOUTS = tuple(dict.fromkeys(lay for f in formats.FORMATS.values() for lay in f.layouts))


def _precision_flags(command):
    for spec in reversed(EXTRA_PRECISIONS):
        where = ", ".join(c.format for c in formats.CAPABILITIES if c.precision == spec.name)
        command = click.option(f"--{spec.name}", is_flag=True,
                               help=f"Add {spec.name.upper()} artifacts: {spec.description} "
                                    f"({where}).")(command)
    return command


@click.command()
@click.argument("model")
@click.option("--formats", "formats_", default=None, callback=options.split_formats,
              help=f"Comma-separated subset of {','.join(formats.FORMATS)} [default: all].")
@_precision_flags
@click.option("--calib", default=None, metavar="SOURCE[:N]",
              help="INT8 calibration: a folder of images, fashion-mnist or random; N samples "
                   "[default: fashion-mnist:300].")
@click.option("--weights", default="imagenet", show_default=True,
              help="imagenet | random | PATH to a .pt/.pth/.safetensors state_dict.")
@click.option("--resolution", type=Bounded(limits.RESOLUTION), default=None,
              help="Input height and width in pixels [default: the model's native one; "
                   f"{limits.RESOLUTION.describe()}].")
@click.option("--layout", type=click.Choice(LAYOUTS), default=LAYOUTS[0], show_default=True,
              help="Input layout of the artifacts (nhwc: channels-last inputs).")
@click.option("--opset", type=Bounded(limits.OPSET), default=17, show_default=True,
              help=f"ONNX opset [{limits.OPSET.describe()}; the exporter may allow fewer].")
@click.option("--dynamic-batch", is_flag=True, help="Make the batch dimension dynamic (ONNX, OpenVINO).")
@click.option("--validate-samples", type=Bounded(limits.VALIDATE_SAMPLES), default=500,
              show_default=True, help="Held-out samples each artifact is validated on (photos, "
              f"then Fashion-MNIST test) [{limits.VALIDATE_SAMPLES.describe()}, and what fits in memory].")
@click.option("--min-top1-agreement", type=Bounded(limits.AGREEMENT), default=None,
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
@click.option("--floor-samples", type=Bounded(limits.FLOOR_SAMPLES), default=None,
              help="Validation images the ladder scores each rung on [default: the whole split].")
@options.as_json
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
    from ..export import planned_steps
    from ..report import console

    request = api.export_request(
        model, formats=formats_, precisions=[p.name for p in EXTRA_PRECISIONS if precision_flags[p.name]],
        converter=converter, weights=weights, resolution=resolution, layout=layout, opset=opset,
        dynamic_batch=dynamic_batch, calib=calib, validate_samples=validate_samples,
        min_top1_agreement=min_top1_agreement, out_dir=out_dir, force=force)
    with console.progress(planned_steps(request), f"export {model}") as step:
        result = api.export(request, accuracy_floor=floor_text, floor_samples=floor_samples,
                            progress=step, warn=warn)
    with output():
        if as_json:
            print_json(result)
        else:
            console.exports(model, list(result.cells))
            if result.ladders:
                console.ladders(result.ladders)
    exits.check(result)


COMMANDS = (export,)
