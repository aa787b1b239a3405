"""`edgebench validate`'s own parsing: its help, and the board it needs."""

import pytest

from edgebench.cli.validate import validate
from tests.helpers import assert_help, assert_usage_error


def test_help_shows_an_example_every_option_and_json(run_cli):
    out = assert_help(run_cli, validate, "validate")
    assert "--json" in out and "[default: fashion-mnist:test:32]" in out
    assert "Exit 3 if any artifact is degraded, 9 if any failed" in out


@pytest.mark.parametrize("args, needle", [
    (["model.onnx"], "Missing option '--target'"),
    (["--target", "rpi4"], "Missing argument 'ARTIFACTS...'"),
])
def test_usage_errors(run_cli, args, needle):
    assert_usage_error(run_cli, "validate", ["validate", *args], needle)
