"""`edgebench bench`'s own parsing: its help, and the options the runtime rows define."""

import pytest

from edgebench import formats
from edgebench.cli.bench import bench
from tests.helpers import assert_help, assert_usage_error


def test_help_shows_an_example_every_option_and_the_tables_runtimes_and_devices(run_cli):
    out = assert_help(run_cli, bench, "bench")
    assert "--json" in out and "--store" in out
    assert f"Runtimes to use: {', '.join(formats.RUNTIMES)}, or one pinned" in out
    for row in formats.RUNTIMES.values():
        if not row.any_format:
            assert f"{row.name}: {row.devices}" in out


@pytest.mark.parametrize("knob", [k for k in formats.knobs() if k.choices],
                         ids=lambda k: k.option)
def test_a_knob_value_outside_its_row_lists_exactly_the_rows_choices(run_cli, knob):
    listed = ", ".join(f"'{c}'" for c in knob.choices)
    assert_usage_error(run_cli, "bench", ["bench", "model.onnx", knob.option, "no-such-value"],
                       f"'no-such-value' is not one of {listed}.")


@pytest.mark.parametrize("args, needle", [
    (["--runtime", "onnxruntime"], "Missing argument 'ARTIFACTS...'"),
    (["model.onnx", "--threads"], "Option '--threads' requires an argument"),
])
def test_usage_errors(run_cli, args, needle):
    assert_usage_error(run_cli, "bench", ["bench", *args], needle)
