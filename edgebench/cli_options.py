"""Command-line options generated from the capability table.

The bench command's runtime options (``--hint``, ``--xnnpack/--no-xnnpack``, torch's
``--precision``, ...) are the runtimes' ``Knob`` rows: a runtime that adds a knob to its row
gets its option here, with no edit to the command.
"""

from __future__ import annotations

import functools

import click

from . import formats

KNOB_PREFIX = "knob_"  # the options' parameter names, gathered into one ``knobs`` argument


def _option(knob: formats.Knob):
    declared = (knob.option, f"{KNOB_PREFIX}{knob.field}")
    if knob.is_flag:
        return click.option(*declared, is_flag=True, default=bool(knob.default), help=knob.help)
    kind = click.Choice(knob.choices) if knob.choices else None
    return click.option(*declared, type=kind, default=knob.default, show_default=True,
                        help=knob.help)


def runtime_knobs(command):
    """Every runtime's knob as an option, in table order; the command receives them as
    ``knobs``: {RuntimeSettings field: value}."""

    @functools.wraps(command)
    def gathered(*args, **kwargs):
        knobs = {k.field: kwargs.pop(f"{KNOB_PREFIX}{k.field}") for k in formats.knobs()}
        return command(*args, knobs=knobs, **kwargs)

    for knob in reversed(formats.knobs()):  # click lists options in the order decorated, top down
        gathered = _option(knob)(gathered)
    return gathered
