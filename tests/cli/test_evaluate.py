"""`edgebench eval`'s own parsing: its help, the runtimes it names, and usage errors."""

import pytest

from edgebench import formats
from edgebench.cli.evaluate import eval_cmd
from tests.helpers import assert_help, assert_usage_error


def test_help_shows_an_example_every_option_and_the_tables_runtimes(run_cli):
    out = assert_help(run_cli, eval_cmd, "eval")
    assert f"Runtimes to score in: {', '.join(formats.RUNTIMES)}, or pinned" in out
    assert "--json" in out and "Exit 3 if any row is degraded, 9 if any failed" in out


@pytest.mark.parametrize("args, needle", [
    (["--dataset", "fashion-mnist:test:8"], "Missing argument 'ARTIFACTS...'"),
    (["model.onnx", "--device", "gpu"], "No such option '--device'"),
])
def test_usage_errors(run_cli, args, needle):
    assert_usage_error(run_cli, "eval", ["eval", *args], needle)
