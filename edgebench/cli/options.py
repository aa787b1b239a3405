"""Option types and the options several commands share, with their help texts."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from .. import formats, limits
from ..targets import LOCAL

TARGET_HELP = "Where the agent runs: 'local' or a board from `edgebench targets list`."
STORE_HELP = "Also add the results to this SQLite results store (for `edgebench report`)."


class Bounded(click.ParamType):
    """A number in a ``limits.Range``: NaN, infinity and out-of-range values are one line."""

    def __init__(self, rng: limits.Range):
        self.rng = rng
        self.name = "integer" if rng.integer else "number"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.rng.check(value)
        try:
            number = float(str(value).strip())
        except ValueError:
            number = str(value)  # check() names the option, the range and what was given
        return self.rng.check(number)


def as_json(command):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")(command)


def store(command):
    """--store: also keep the command's cells in a results store."""
    return click.option("--store", "store_path", type=click.Path(path_type=Path), default=None,
                        help=STORE_HELP)(command)


def target(command):
    return click.option("--target", "target_name", default=LOCAL, show_default=True,
                        help=TARGET_HELP)(command)


def weights(help: str):
    return click.option("--weights", default="random", show_default=True, help=help)


def threads(default_is: str):
    return click.option("--threads", type=Bounded(limits.THREADS), default=None,
                        help=f"Inference threads [default: {default_is}; "
                             f"{limits.THREADS.describe()}].")


def batch(default: int, help: str):
    return click.option("--batch", type=Bounded(limits.BATCH), default=default, show_default=True,
                        help=help)


def timeout(default: float, what: str, ranged: bool = False):
    """--timeout: seconds before ``what``'s agent is killed (the defaults: ``limits``)."""
    stated = f" [{limits.TIMEOUT.describe()}]" if ranged else ""
    return click.option("--timeout", "timeout_s", type=Bounded(limits.TIMEOUT), default=default,
                        show_default=True,
                        help=f"Kill {what} agent after this many seconds{stated}.")


def runtimes(help: str):
    return click.option("--runtime", default=None, metavar="R[,R...]", help=help)


def split_formats(ctx, param, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not names:
        raise click.BadParameter("give at least one format")
    return names


# The bench command's runtime options (--hint, --xnnpack/--no-xnnpack, torch's --precision,
# ...) are the runtimes' Knob rows: a runtime that adds a knob to its row gets its option here,
# with no edit to the command.
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
