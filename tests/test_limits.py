"""Every numeric option's range: a value outside it is one line naming the option and range."""

import math

import pytest

from edgebench import limits
from edgebench.errors import UserInputError
from edgebench.limits import Range

RANGES = [v for v in vars(limits).values() if isinstance(v, Range)]


def _outside(r: Range) -> list:
    below = r.low - 1 if r.integer or r.low <= 0 else r.low / 2
    return [below, r.high + 1, math.nan, math.inf, -math.inf, True, "1", [1]] + \
        ([r.low + 0.5] if r.integer else [])


def test_the_registry_holds_every_option():
    assert len(RANGES) >= 20 and limits.THREADS in RANGES and limits.OPSET in RANGES


@pytest.mark.parametrize("r", RANGES, ids=lambda r: r.option)
def test_in_range_values_pass_with_their_type(r):
    assert r.check(None) is None  # the default
    for value in (r.low, r.high, (r.low + r.high) / 2 if not r.integer else r.low + 1):
        checked = r.check(value)
        assert checked == value and type(checked) is (int if r.integer else float)
    if r.integer:
        assert type(r.check(float(r.low))) is int


@pytest.mark.parametrize("r", RANGES, ids=lambda r: r.option)
def test_out_of_range_values_are_one_line_naming_the_option_and_the_range(r):
    for value in _outside(r):
        with pytest.raises(UserInputError) as caught:
            r.check(value)
        message = str(caught.value)
        assert "\n" not in message and message.startswith(f"{r.option} must be ")
        assert r.describe() in message, message


def test_describe_shows_whole_numbers_and_units():
    assert limits.RESOLUTION.describe() == f"16 to {limits.MAX_RESOLUTION} px"
    assert limits.TIMEOUT.describe() == f"0.1 to {limits.MAX_TIMEOUT_S:g} s"


def test_tensors_that_would_not_fit_in_memory_are_refused_with_a_count_that_fits():
    if limits.memory_bytes() is None:
        pytest.skip("this machine's memory cannot be read")
    with pytest.raises(UserInputError, match="use at most") as caught:
        limits.check_tensor_memory("--validate-samples", limits.MAX_SAMPLES, limits.MAX_RESOLUTION)
    fit = int(str(caught.value).rsplit("use at most ", 1)[1])
    assert fit >= 1
    limits.check_tensor_memory("--validate-samples", fit, limits.MAX_RESOLUTION)  # no error
    limits.check_tensor_memory("--validate-samples", 32, 64)
