"""`edgebench report`'s own parsing: its help and the shapes of --run and --diff, refused before
any store is opened."""

import pytest

from edgebench.cli.report import report
from edgebench.report.matrix import DEFAULT_FLOOR_POINTS
from tests.helpers import assert_help, assert_usage_error


def test_help_shows_an_example_every_option_and_json(run_cli):
    out = assert_help(run_cli, report, "report")
    assert "Write JSON here ('-': standard output)" in out
    assert f"--floor FLOAT Top-1 points a recommended cell may lose against FP32. [default: " \
           f"{DEFAULT_FLOOR_POINTS}]" in out


@pytest.mark.parametrize("args, needle", [
    (["--run", "latest"], "'latest' is not a valid integer"),
    (["--diff", "1", "2", "3"], "Got unexpected extra argument (3)"),
    (["--diff", "1", "two"], "'two' is not a valid integer"),
    (["--floor", "one"], "'one' is not a valid float"),
])
def test_malformed_options_are_refused_before_the_store_is_opened(run_cli, tmp_path, args, needle):
    db = tmp_path / "r.db"
    assert_usage_error(run_cli, "report", ["report", "--store", db, *args], needle)
    assert not db.exists()
