"""Writing a command's own output: JSON or the console's tables, warnings and files."""

from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .. import errors


def plain(data):
    """Typed results as their ``to_dict()``, inside lists and dicts too; plain data as it is."""
    if isinstance(data, (list, tuple)):
        return [plain(x) for x in data]
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    return data.to_dict() if hasattr(data, "to_dict") else data


def print_json(data) -> None:
    """Strict JSON (no NaN or Infinity) of typed results or plain data."""
    from ..results import to_json

    click.echo(to_json(plain(data)))


@contextmanager
def output():
    """Writing the command's own output: a closed pipe or a full disk is one line, exit 7."""
    try:
        yield
        sys.stdout.flush()
    except OSError as e:
        try:  # nothing more can reach the reader; keep Python's exit flush quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass
        raise errors.OutputError(f"cannot write the results to standard output ({e.strerror or e}):"
                                 " what was made is on disk; rerun with a writable output") from e


def emit(data, as_json: bool, table) -> None:
    """Print ``data`` as JSON, or through the console printer ``table``."""
    with output():
        if as_json:
            print_json(data)
        else:
            table(data)


def warn(message: str) -> None:
    from ..logs import user_stderr

    click.echo(f"warning: {message}", file=user_stderr())


def say(message: str) -> None:
    from ..logs import user_stderr

    click.echo(message, file=user_stderr())


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as e:
        raise errors.OutputError(f"cannot write {path}: {e.strerror or e}: choose another path") from e
