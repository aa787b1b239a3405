"""``edgebench compare``: two models side by side, and the published claims measured here."""

from __future__ import annotations

from pathlib import Path

import click

from .. import api
from . import options
from .output import emit, warn


@click.command()
@click.argument("model_a")
@click.argument("model_b")
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=api.DEFAULT_STORE,
              show_default=True, help="Results store with the measurements (edgebench sweep).")
@click.option("--target", "target_name", default=None, help="Only this target's latencies.")
@options.as_json
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
    from ..report import console

    found = api.compare(model_a, model_b, store=store_path, target=target_name, warn=warn)
    emit(found, as_json, console.comparison)


COMMANDS = (compare,)
