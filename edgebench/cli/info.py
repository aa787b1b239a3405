"""``edgebench list``, ``info`` and ``capabilities``: the zoo and the capability table."""

from __future__ import annotations

import click

from .. import api
from . import options
from .output import emit


@click.command("list")
@click.argument("pattern", required=False)
@options.as_json
def list_cmd(pattern, as_json):
    """List the model zoo, optionally filtered by a glob PATTERN.

    \b
    Example:
      edgebench list 'efficientnet_b*' --json
    """
    from ..report import console

    emit(api.models(pattern), as_json, console.models)


@click.command()
@click.argument("model")
@options.as_json
def info(model, as_json):
    """Show one zoo entry in full: metadata, preprocessing, weights sources.

    \b
    Example:
      edgebench info efficientnet_lite0
    """
    from ..report import console

    emit(api.model_info(model), as_json, console.mapping)


@click.command()
@options.as_json
def capabilities(as_json):
    """Show the capability table: format x precision x converter x runtimes.

    The first runtime of a row validates the export; every runtime listed can bench it.

    \b
    Example:
      edgebench capabilities --json
    """
    from ..report import console

    emit(api.capabilities(), as_json, console.capabilities)


COMMANDS = (list_cmd, info, capabilities)
