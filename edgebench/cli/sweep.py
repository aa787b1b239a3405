"""``edgebench sweep``: a matrix measured into the results store, resumable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from .. import api
from . import options
from .output import output, print_json, warn


@click.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--store", "store_path", default=None,
              help="Results store (SQLite) [default: the file's `store`, else edgebench.db].")
@click.option("--cluster", default=None, metavar="tcp://HOST:8786",
              help="Run the work on this Dask scheduler's workers (`edgebench cluster worker`) "
              "[default: the file's `cluster`, else this machine].")
@options.as_json
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
    from ..report import console
    from ..sweep import SweepConfig, with_store

    settings = with_store(SweepConfig.from_toml(config), store_path)
    settings = replace(settings, cluster=cluster) if cluster else settings
    with console.counter("sweep") as step:
        result = api.sweep(settings, progress=step, warn=warn)
    with output():
        if as_json:
            print_json({"run": result.run_id, "store": settings.store, "skipped": result.skipped,
                        "measured": result.measured})
        else:
            console.swept(result, settings.store)


COMMANDS = (sweep,)
