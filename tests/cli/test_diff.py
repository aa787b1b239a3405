"""`edgebench diff`'s own parsing: its help, --samples' range and --svg's path, checked before
any artifact is read."""

import pytest

from edgebench import limits
from edgebench.cli.diff import diff
from tests.helpers import assert_help, assert_one_line_error, assert_usage_error


def test_help_shows_an_example_every_option_and_json(run_cli):
    out = assert_help(run_cli, diff, "diff")
    assert "--json" in out and "--svg" in out


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1.5", str(limits.DIFF_SAMPLES.high + 1)])
def test_samples_outside_the_range_are_refused_before_the_artifact_is_read(run_cli, tmp_path,
                                                                          value):
    code, out, err = run_cli("diff", tmp_path / "not-there", "--samples", value)
    stated = f"--samples must be a whole number from {limits.DIFF_SAMPLES.describe()}"
    assert_one_line_error(code, err, stated, expected_code=2)
    assert out == "" and "not-there" not in err


def test_svg_into_a_folder_is_a_usage_error(run_cli, tmp_path):
    assert_usage_error(run_cli, "diff", ["diff", tmp_path / "art", "--svg", tmp_path],
                       "'--svg'", "is a directory")
    assert list(tmp_path.iterdir()) == []
