"""``edgebench validate``: artifacts on a board against the same on this host."""

from __future__ import annotations

import click

from .. import api, formats, limits
from . import exits, options
from .output import emit


@click.command()
@click.argument("artifacts", nargs=-1, required=True)
@click.option("--target", "target_name", required=True, help="The board to check (not local: "
              "this host is the other side).")
@options.runtimes("Runtimes, or pinned versions (onnxruntime==1.16.3); each artifact runs in "
                  "those that load its format [default: the format's own].")
@click.option("--dataset", default="fashion-mnist:test:32", show_default=True,
              metavar="D[:PATH][:split][:N]", help="Images to feed (labels are not used).")
@options.weights("Weights for zoo:MODEL (imagenet | random | PATH); an artifact's FP32 "
                 "PyTorch reference is rebuilt from the weights its manifest names.")
@options.batch(8, "Batch for dynamic-batch artifacts.")
@options.timeout(limits.VALIDATE_TIMEOUT_S, "an artifact's")
@options.as_json
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
    from ..report import console

    steps = len(artifacts) * max(1, len(formats.parse_runtimes(runtime)))
    with console.progress(steps, "validate") as step:
        rows = api.validate(artifacts, target=target_name, runtime=runtime, dataset=dataset,
                            weights=weights, batch=batch, timeout_s=timeout_s, progress=step)
    emit(rows, as_json, lambda data: console.numerics(data, target_name))
    exits.check(rows)


COMMANDS = (validate,)
