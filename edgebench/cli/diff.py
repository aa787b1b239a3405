"""``edgebench diff``: layer-wise numerics of an artifact against its FP32 reference."""

from __future__ import annotations

from pathlib import Path

import click

from .. import api, limits
from . import options
from .options import Bounded
from .output import output, print_json, write_text


@click.command()
@click.argument("artifact")
@click.option("--samples", type=Bounded(limits.DIFF_SAMPLES), default=16, show_default=True,
              help="Images to compare on.")
@click.option("--dataset", default=None, metavar="D[:PATH][:split]",
              help="Images to feed [default: the checkpoint's validation split, else "
                   "fashion-mnist:test].")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write PSNR down the network as an SVG plot here.")
@options.as_json
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
    from ..report import console

    with console.counter(f"diff {artifact}") as count:
        found = api.diff(artifact, samples=samples, dataset=dataset,
                         progress=lambda text: count(0, 0, text))
    if svg_path is not None:
        from ..layerwise.plot import svg

        write_text(svg_path, svg(found))
    with output():
        if as_json:
            print_json(found)
        else:
            console.layer_diff(found)
            if svg_path is not None:
                console.console().print(f"plot: {svg_path}")


COMMANDS = (diff,)
