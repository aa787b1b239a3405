"""``edgebench eval``: accuracy of artifacts on labelled data."""

from __future__ import annotations

import click

from .. import api, formats, limits
from . import exits, options
from .output import emit, warn


@click.command("eval")
@click.argument("artifacts", nargs=-1, required=True)
@click.option("--dataset", default=None, metavar="D[:PATH][:split][:N]",
              help="Labelled data: fashion-mnist, cifar10[:PATH], imagenet-val:PATH or "
                   "imagefolder:PATH; its test (or val) split unless one is named; N: its first N "
                   "images [default: the data set the artifacts were trained on].")
@options.runtimes(f"Runtimes to score in: {', '.join(formats.RUNTIMES)}, or pinned to a "
                  "version (onnxruntime==1.16.3); with several, each artifact runs in those that "
                  "load its format [default: the format's own: onnxruntime, openvino, tflite].")
@options.weights("Weights for zoo:MODEL (imagenet | random | PATH to a checkpoint).")
@options.target
@options.store
@options.threads("all cores")
@options.batch(64, "Batch for dynamic-batch artifacts and PyTorch (static ones run their own).")
@options.timeout(limits.EVAL_TIMEOUT_S, "an artifact's")
@options.as_json
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
    from ..report import console

    request = api.eval_request(artifacts, dataset=dataset, runtime=runtime, weights=weights,
                               threads=threads, batch=batch, timeout_s=timeout_s)
    request.check()
    steps = 3 * len(artifacts) * max(1, len(formats.parse_runtimes(runtime))) + 1
    with console.progress(steps, "eval") as step:
        cells = api.evaluate(request, target=target_name, store=store_path, progress=step,
                             warn=warn)
    emit(cells, as_json, console.accuracies)
    exits.check(cells)


COMMANDS = (eval_cmd,)
