"""`edgebench train`'s own parsing: its help and its required model and data set."""

import pytest

from edgebench import limits
from edgebench.cli.train import train
from tests.helpers import assert_help, assert_usage_error


def test_help_shows_an_example_every_option_and_json(run_cli):
    out = assert_help(run_cli, train, "train")
    assert "--json" in out and f"[{limits.EPOCHS.describe()}]" in out


@pytest.mark.parametrize("args, needle", [
    (["--dataset", "fashion-mnist"], "Missing argument 'MODEL'"),
    (["resnet18"], "Missing option '--dataset'"),
    (["resnet18", "--dataset", "fashion-mnist", "--freeze-backbone", "yes"],
     "Got unexpected extra argument (yes)"),
])
def test_usage_errors(run_cli, tmp_path, args, needle):
    assert_usage_error(run_cli, "train", ["train", *args, "--out", tmp_path / "c.pt"], needle)
    assert not (tmp_path / "c.pt").exists()
