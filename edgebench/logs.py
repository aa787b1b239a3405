"""Keep third-party log noise off the console unless ``--verbose``.

The converters and runtimes log from C++ (absl, TensorFlow, oneDNN) straight to file
descriptor 2, some before any switch can be read, and from Python (warnings, logging
handlers bound to ``sys.stderr``). So while a command runs, descriptor 2 goes to a log
file and edgebench's own messages (errors, warnings, the progress bar) go to a duplicate
of the real stderr, ``user_stderr()``. ``--verbose`` leaves everything where it was.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from typing import IO, Iterator

from .files import cache_dir
from .formats import quiet_loggers

QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow / LiteRT C++ logs (also in agent processes)
    "GLOG_minloglevel": "3",
    "TORCH_CPP_LOG_LEVEL": "ERROR",
}
# every runtime's and converter tool's Python packages (their loggers, and where warnings come from)
QUIET_LOGGERS = quiet_loggers()
_THIRD_PARTY = rf"({'|'.join(QUIET_LOGGERS)})(\.|$)"

_user_stderr: IO[str] | None = None


def user_stderr() -> IO[str]:
    """Where edgebench's own messages to stderr go."""
    return _user_stderr or sys.stderr


def log_file():
    return cache_dir("logs", "last-command.log")


def _open_sink():
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb")
    except OSError:  # an unwritable cache: the noise is dropped instead of kept
        return open(os.devnull, "wb")


@contextmanager
def quiet(verbose: bool = False) -> Iterator[None]:
    """Run a command with third-party output sent to ``log_file()`` unless ``verbose``."""
    global _user_stderr
    if verbose:
        yield
        return
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=_THIRD_PARTY)
        if fd != 2:  # stderr is not the process's (an in-process test runner): nothing to move
            yield
            return
        sys.stderr.flush()
        saved = os.dup(2)
        sink = _open_sink()
        _user_stderr = os.fdopen(saved, "w", buffering=1, closefd=False)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            _user_stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.close()
            _user_stderr = None
