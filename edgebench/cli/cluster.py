"""``edgebench cluster``: Dask workers for boards and exports, and the cluster's state."""

from __future__ import annotations

import click

from . import options
from .output import emit, say


@click.group()
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
    from ..executors.cluster import WorkerSpec, serve

    spec = WorkerSpec(scheduler=scheduler, boards=tuple(boards), export=export,
                      this_machine=this_machine, name=name)
    serve(spec, lambda address: say(f"worker {address}: offers {', '.join(spec.resources())} "
                                    f"to {scheduler} (Ctrl-C stops it)"), say)


@cluster.command("status")
@click.argument("scheduler")
@options.as_json
def cluster_status(scheduler, as_json):
    """List the workers of a Dask scheduler, their boards and the cells each is running.

    \b
    Example:
      edgebench cluster status tcp://10.0.0.5:8786 --json
    """
    from ..executors.cluster import status
    from ..report import console

    emit(status(scheduler), as_json, console.cluster_status)


COMMANDS = (cluster,)
