"""The ``edgebench`` command: a thin layer over ``edgebench.api``.

Each command module parses its options, calls one API function, renders the result through
``report/console.py`` and maps it to an exit code through ``exits.check``. This module holds
the group: typed errors, usage errors and signals become one line and an exit code.
"""

from __future__ import annotations

import signal
import sys
import threading

import click

from .. import __version__, errors
from .exits import EXIT_CODES, EXIT_INTERRUPTED, exit_code

__all__ = ["EXIT_CODES", "cli", "exit_code", "main"]


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as Ctrl-C does."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum, frame):
    raise Terminated(signum)


class _Group(click.Group):
    """Runs subcommands with typed errors, usage errors and signals turned into one line and
    an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        from ..logs import user_stderr
        from ..privacy import disable_telemetry

        disable_telemetry()
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _on_signal) if main_thread else None
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx else "edgebench"
            click.echo(f"error: {e.format_message()} (see '{where} --help')", file=user_stderr())
            code = 2
        except click.ClickException as e:
            click.echo(f"error: {e.format_message()}", file=user_stderr())
            code = e.exit_code
        except click.exceptions.Abort:
            click.echo("error: interrupted", file=user_stderr())
            code = EXIT_INTERRUPTED
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, previous)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        from ..logs import quiet, user_stderr

        try:
            with quiet(ctx.params.get("verbose", False)):
                return super().invoke(ctx)
        except errors.EdgebenchError as e:
            click.echo(f"error: {e}", file=user_stderr())
            ctx.exit(exit_code(e))
        except KeyboardInterrupt as e:
            name = "terminated" if isinstance(e, Terminated) else "interrupted"
            click.echo(f"error: {name}: nothing half-written was kept; run the command again",
                       file=user_stderr())
            ctx.exit(128 + e.signum if isinstance(e, Terminated) else EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgebench")
@click.option("--verbose", is_flag=True, help="Show the converters' and runtimes' own log lines.")
def cli(verbose):
    """Export image classifiers to ONNX, OpenVINO IR and TFLite, validate every artifact,
    benchmark them.

    \b
    Example:
      edgebench list
      edgebench export resnet50 --weights random --out artifacts
    """


def _register() -> None:
    # the command modules import this package (for the options); they are added once it exists
    from . import (bench, cluster, compare, diff, evaluate, export, info, report, sweep, targets,
                   train, validate)

    for module in (info, export, train, bench, evaluate, diff, validate, sweep, report, compare,
                   cluster, targets):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="edgebench")


if __name__ == "__main__":
    main()
