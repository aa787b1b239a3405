"""The shared options: bounded numbers, the format list, and the bench command's runtime
options generated from the runtimes' Knob rows."""

import click
import pytest
from click.testing import CliRunner

from edgebench import errors, formats, limits
from edgebench.cli import cli
from edgebench.cli.options import Bounded, runtime_knobs
from edgebench.runtimes import RuntimeSettings


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

@click.command()
@runtime_knobs
@click.option("--after", default="x")
def _echo(knobs, after):
    click.echo(repr(RuntimeSettings(**knobs)))
    click.echo(after)


def _settings(*args) -> str:
    result = CliRunner().invoke(_echo, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_defaults_are_the_rows_defaults():
    out = _settings()
    defaults = {k.field: k.default for k in formats.knobs()}
    assert out.splitlines()[0] == repr(RuntimeSettings(**defaults))
    assert out.splitlines()[1] == "x"  # options after the knobs still reach the command


def test_each_knob_sets_its_settings_field():
    out = _settings("--hint", "throughput", "--no-xnnpack", "--precision", "fp16",
                    "--no-cuda-graphs", "--no-channels-last", "--compile")
    assert out.splitlines()[0] == repr(RuntimeSettings(
        hint="throughput", xnnpack=False, precision="fp16", cuda_graphs=False,
        channels_last=False, compile=True))


def test_a_choice_outside_the_row_is_refused():
    result = CliRunner().invoke(_echo, ["--hint", "fastest"])
    assert result.exit_code == 2 and "'fastest' is not one of 'latency', 'throughput'" in result.output


def test_bench_lists_every_knob_with_its_help_in_table_order():
    out = CliRunner().invoke(cli, ["bench", "--help"], terminal_width=400).output
    positions = []
    for knob in formats.knobs():
        first = knob.option.split("/")[0]
        line = next(line for line in out.splitlines() if line.strip().startswith(first))
        assert knob.help[:30] in " ".join(out.split()), knob
        positions.append(out.index(line))
        if not knob.is_flag:
            assert "[default: " in out[out.index(line):out.index(line) + 600]
    assert positions == sorted(positions)
