"""The typed errors: one hierarchy the CLI maps to exit codes, and one-line messages."""

import inspect

import pytest

from edgebench import errors
from edgebench.errors import DependencyMissingError, first_line, require

ERRORS = [c for _, c in inspect.getmembers(errors, inspect.isclass)
          if issubclass(c, Exception) and c.__module__ == errors.__name__]


@pytest.mark.parametrize("cls", ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_an_edgebench_error_with_a_docstring(cls):
    # the CLI edge catches EdgebenchError alone: an error outside it would be a traceback
    assert issubclass(cls, errors.EdgebenchError)
    assert cls.__doc__ and cls.__doc__.strip()


def test_first_line_skips_openvinos_location_lines_and_names_the_place():
    e = RuntimeError("Exception from src/core/a.cpp:12:\nException from src/b.cpp:3:\n"
                     "Check 'rank' failed\nmore detail")
    assert first_line(e) == "Check 'rank' failed (at src/b.cpp:3)"


@pytest.mark.parametrize("text, expected", [
    ("  \n\n  the reason  \nsecond", "the reason"),
    ("", "ValueError"),  # nothing to quote: the type still says something
    ("x" * 1000, "x" * 300),
])
def test_first_line_is_bounded_and_never_empty(text, expected):
    assert first_line(ValueError(text)) == expected


def test_require_names_the_extra_to_install():
    with pytest.raises(DependencyMissingError) as info:
        require("edgebench_no_such_module", "tflite")
    message = str(info.value)
    assert "edgebench_no_such_module is not installed" in message
    assert "pip install 'edgebench[tflite]'" in message and "\n" not in message
    assert isinstance(info.value.__cause__, ImportError)


def test_require_returns_the_module():
    assert require("json", "export").dumps([1]) == "[1]"
