"""`edgebench targets`' own checks: help for each subcommand, and the inputs it refuses before
reaching any board (a missing key file, a name taken, a port, a board it cannot emulate)."""

import json

import pytest

from edgebench.cli.targets import targets
from edgebench.targets import LOCAL, profiles
from edgebench.targets.emulate import BOARDS
from tests.helpers import assert_help, assert_one_line_error, assert_usage_error


@pytest.fixture(autouse=True)
def own_config(tmp_path, monkeypatch):
    """Profiles and pinned keys in a folder of the test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_the_group_lists_its_commands_with_an_example(run_cli):
    out = assert_help(run_cli, targets, "targets")
    assert all(name in out for name in targets.commands)


@pytest.mark.parametrize("name", list(targets.commands))
def test_each_subcommand_shows_an_example_and_its_options(run_cli, name):
    assert_help(run_cli, targets.commands[name], "targets", name)


def test_list_shows_this_machine_and_its_json_the_saved_boards(run_cli):
    code, out, err = run_cli("targets", "list")
    assert code == 0 and LOCAL in out and "this machine" in out, err
    profiles.save(profiles.Profile(name="pi5", host="192.0.2.1"))
    code, out, _ = run_cli("targets", "list", "--json")
    assert code == 0 and [(r["name"], r["host"]) for r in json.loads(out)] == [("pi5", "192.0.2.1")]


def test_a_key_file_that_is_not_there_is_refused_before_the_board_is_reached(run_cli, tmp_path):
    code, out, err = run_cli("targets", "add", "pi5", "--host", "192.0.2.1", "--key",
                             tmp_path / "id_none")
    assert_one_line_error(code, err, f"--key {tmp_path / 'id_none'}: no such file",
                          expected_code=2)
    assert out == "" and "pi5" not in profiles.load()


def test_a_name_taken_is_refused_and_the_profile_kept(run_cli):
    profiles.save(profiles.Profile(name="pi5", host="192.0.2.1"))
    code, _, err = run_cli("targets", "add", "pi5", "--host", "192.0.2.2")
    assert_one_line_error(code, err, "target 'pi5' exists", "targets remove pi5", expected_code=2)
    assert profiles.load()["pi5"].host == "192.0.2.1"


def test_emulate_offers_exactly_the_boards_it_can_build(run_cli):
    listed = ", ".join(f"'{b}'" for b in BOARDS)
    assert_usage_error(run_cli, "targets emulate", ["targets", "emulate", "rpi9"],
                       f"'rpi9' is not one of {listed}.")


@pytest.mark.parametrize("args, needle", [
    (["--port", "70000"], "--port 70000 is not a TCP port"),
    (["--name", "a b"], "target name 'a b' is not valid"),
    (["--name", LOCAL], f"'{LOCAL}' is this machine's target name"),
])
def test_emulate_refuses_a_bad_port_or_name_before_building(run_cli, args, needle):
    code, out, err = run_cli("targets", "emulate", next(iter(BOARDS)), *args)
    assert_one_line_error(code, err, needle, expected_code=2)
    assert out == "" and profiles.load() == {}


def test_bootstrap_wheels_are_a_choice(run_cli):
    assert_usage_error(run_cli, "targets bootstrap",
                       ["targets", "bootstrap", "pi5", "--wheels", "pypi"], "'pypi' is not one of 'auto', 'board', 'host'.")
