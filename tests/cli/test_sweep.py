"""`edgebench sweep`'s own parsing: its help, and a sweep file that cannot be read, refused
before any store is made."""

from edgebench.cli.sweep import sweep
from tests.helpers import assert_help, assert_one_line_error, assert_usage_error


def test_help_shows_an_example_every_option_and_json(run_cli):
    out = assert_help(run_cli, sweep, "sweep")
    assert "--json" in out and "Example (sweep.toml):" in out


def test_no_sweep_file_is_a_usage_error(run_cli):
    assert_usage_error(run_cli, "sweep", ["sweep", "--json"], "Missing argument 'CONFIG'")


def test_a_sweep_file_that_is_not_there_or_not_a_file_is_one_line(run_cli, tmp_path):
    code, out, err = run_cli("sweep", tmp_path / "nope.toml", "--store", tmp_path / "s.db")
    assert_one_line_error(code, err, "nope.toml does not exist", "give a TOML file",
                          expected_code=2)
    code, out, err = run_cli("sweep", tmp_path, "--store", tmp_path / "s.db")
    assert_one_line_error(code, err, f"cannot read sweep file {tmp_path}", expected_code=2)
    assert out == "" and not (tmp_path / "s.db").exists()


def test_a_file_that_is_not_toml_names_its_line_and_column(run_cli, tmp_path):
    config = tmp_path / "s.toml"
    config.write_text('models = ["resnet18"]\nformats = [onnx]\n')
    code, _, err = run_cli("sweep", config, "--store", tmp_path / "s.db")
    assert_one_line_error(code, err, f"{config} is not valid TOML", "line 2", expected_code=2)
    assert not (tmp_path / "s.db").exists()
