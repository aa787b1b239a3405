"""`edgebench cluster`'s own parsing: the group's and each subcommand's help, and usage errors."""

import pytest

from edgebench.cli.cluster import cluster, cluster_status, cluster_worker
from tests.helpers import assert_help, assert_usage_error


def test_the_group_lists_its_commands_with_an_example(run_cli):
    out = assert_help(run_cli, cluster, "cluster")
    assert "worker" in out and "status" in out


def test_worker_help_states_every_option_and_its_dask_equivalent(run_cli):
    out = assert_help(run_cli, cluster_worker, "cluster", "worker")
    assert '--nthreads 1 --resources "board:NAME=1"' in out


def test_status_offers_json(run_cli):
    assert "--json" in assert_help(run_cli, cluster_status, "cluster", "status")


@pytest.mark.parametrize("args, where, needle", [
    (["worker", "--export"], "cluster worker", "Missing argument 'SCHEDULER'"),
    (["status"], "cluster status", "Missing argument 'SCHEDULER'"),
    (["start"], "cluster", "No such command 'start'"),
])
def test_usage_errors(run_cli, args, where, needle):
    assert_usage_error(run_cli, where, ["cluster", *args], needle)
