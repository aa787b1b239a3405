"""``edgebench train``: a checkpoint that export and eval understand."""

from __future__ import annotations

from pathlib import Path

import click

from .. import api, limits
from . import options
from .options import Bounded
from .output import emit, say, warn


@click.command()
@click.argument("model")
@click.option("--dataset", required=True, metavar="D[:PATH][:split][:N]",
              help="Labelled data: fashion-mnist, cifar10[:PATH], imagenet-val:PATH or "
                   "imagefolder:PATH; the train split unless one is named; N: its first N images.")
@click.option("--epochs", type=Bounded(limits.EPOCHS), default=5, show_default=True,
              help=f"Passes over the training images [{limits.EPOCHS.describe()}].")
@click.option("--resolution", type=Bounded(limits.RESOLUTION), default=None,
              help="Input size in pixels [default: 32 for 32-px-or-smaller data sets trained "
                   f"from scratch, else the model's native one; {limits.RESOLUTION.describe()}].")
@click.option("--freeze-backbone", is_flag=True,
              help="Train only the new head on the frozen pretrained backbone's features.")
@click.option("--lr", type=Bounded(limits.LEARNING_RATE), default=3e-3, show_default=True,
              help="Peak learning rate of the one-cycle schedule (AdamW).")
@click.option("--batch", type=Bounded(limits.TRAIN_BATCH), default=128, show_default=True,
              help="Training batch size.")
@click.option("--test-samples", type=Bounded(limits.TEST_SAMPLES), default=None,
              help="Test on the first N images of the evaluation split [default: all of it].")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Checkpoint file (.pt or .safetensors) [default: checkpoints/MODEL-DATASET.pt].")
@options.store
@options.as_json
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
    from ..report import console

    with console.counter(f"train {model}") as step:
        result = api.train(model, dataset=dataset, epochs=epochs, resolution=resolution,
                           freeze_backbone=freeze_backbone, lr=lr, batch=batch, out=out,
                           test_samples=test_samples, store=store_path, progress=step, log=say,
                           warn=warn)
    emit(result, as_json, console.trained)


COMMANDS = (train,)
