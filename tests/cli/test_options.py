"""The shared options: bounded numbers and the format list."""

import pytest

from edgebench import errors, limits
from edgebench.cli.options import Bounded


@pytest.mark.parametrize("given,expected", [("4", 4), (" 2 ", 2), (3.0, 3)])
def test_a_bounded_number_takes_text_and_numbers(given, expected):
    assert Bounded(limits.THREADS).convert(given, None, None) == expected


@pytest.mark.parametrize("given", ["two", "nan", "0", "1.5"])
def test_a_bounded_number_names_the_option_and_range(given):
    with pytest.raises(errors.UserInputError, match="--threads must be a whole number from 1 to"):
        Bounded(limits.THREADS).convert(given, None, None)


def test_an_empty_format_list_is_a_usage_error(run_cli):
    code, _, err = run_cli("export", "resnet18", "--formats", " , ")
    assert code == 2 and "give at least one format" in err
