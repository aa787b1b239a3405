"""Typed errors. Each carries a one-line message that names the problem and the fix.

Exit codes are assigned at the CLI edge only (``edgebench.cli``).
"""

from __future__ import annotations

import re


class EdgebenchError(Exception):
    """Base class: an expected failure with a one-line, user-facing message."""


class UserInputError(EdgebenchError):
    """A name, option or file given by the user is wrong."""


class UnknownModelError(UserInputError):
    """The model name is not in the zoo."""


class UnsupportedError(UserInputError):
    """The capability table has no row for the requested combination."""


class CheckpointError(UserInputError):
    """A checkpoint cannot be read or does not fit the architecture."""


class WeightsUnavailableError(EdgebenchError):
    """Pretrained weights are neither cached nor downloadable."""


class DataUnavailableError(EdgebenchError):
    """A named data set is not on this machine and cannot be downloaded."""


class DependencyMissingError(EdgebenchError):
    """An optional dependency (an extra) is not installed."""


class OutputError(EdgebenchError):
    """The output location cannot be written."""


class ExportError(EdgebenchError):
    """A converter failed to produce an artifact."""


class ValidationFailedError(EdgebenchError):
    """An artifact was written but does not compute the reference function."""


class ValidationDegradedError(EdgebenchError):
    """An artifact works but is below its precision's tolerance."""


class LoadError(EdgebenchError):
    """A runtime could not load the model: the cell's ``load_failed`` result, not an abort."""


class EnvironmentSetupError(EdgebenchError):
    """A virtual environment (a pinned runtime's, a converter's, a board's) could not be made."""


class ClusterError(EdgebenchError):
    """The Dask scheduler cannot be reached, or was lost during a sweep."""


class CellsFailedError(EdgebenchError):
    """Some cells of a benchmark did not produce a measurement (the others did)."""


# OpenVINO prefixes its message with one "Exception from FILE:LINE:" line per layer.
_LOCATION = re.compile(r"^Exception from (\S+):$")


def first_line(error: BaseException, limit: int = 300) -> str:
    """An exception's first informative line, bounded: what one-line messages quote."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    where = None
    while len(lines) > 1 and (match := _LOCATION.match(lines[0])):
        where = match.group(1)
        lines.pop(0)
    if not lines:
        return type(error).__name__
    return (lines[0] + (f" (at {where})" if where else ""))[:limit]


def require(module: str, extra: str):
    """Import ``module`` lazily or raise a one-line error naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise DependencyMissingError(
            f"{module} is not installed ({e}): pip install 'edgebench[{extra}]'"
        ) from e
