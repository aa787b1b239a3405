"""`edgebench compare`'s own parsing: its help and its two model arguments."""

import pytest

from edgebench import api
from edgebench.cli.compare import compare
from tests.helpers import assert_help, assert_usage_error


def test_help_shows_an_example_every_option_and_json(run_cli):
    out = assert_help(run_cli, compare, "compare")
    assert "--json" in out and f"[default: {api.DEFAULT_STORE}]" in out


@pytest.mark.parametrize("args, needle", [
    ([], "Missing argument 'MODEL_A'"),
    (["resnet50"], "Missing argument 'MODEL_B'"),
    (["resnet50", "efficientnet_b0", "resnet18"], "Got unexpected extra argument (resnet18)"),
])
def test_two_models_exactly(run_cli, args, needle):
    assert_usage_error(run_cli, "compare", ["compare", *args], needle)
