"""Keep converters' own console chatter (Python prints and C++ logs) out of our output."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from typing import Iterator


@contextmanager
def captured_output() -> Iterator[list[str]]:
    """Send fds 1 and 2, and Python's sys.stdout/stderr, aside; the yielded list gets the
    lines afterwards (for error messages)."""
    lines: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    python_side = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with redirect_stdout(python_side), redirect_stderr(python_side):
                yield lines
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            lines.extend(sink.read().decode(errors="replace").splitlines())
            lines.extend(python_side.getvalue().splitlines())
