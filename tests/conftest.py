import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from edgebench.cli import cli


@pytest.fixture
def run_cli():
    """The CLI in-process: returns (exit_code, stdout, stderr)."""

    def run(*args):
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def run_subprocess():
    """The CLI as a user runs it: a new process."""

    def run(*args, env=None, cwd=None):
        proc = subprocess.run([sys.executable, "-m", "edgebench", *map(str, args)],
                              capture_output=True, text=True, env={**os.environ, **(env or {})},
                              cwd=cwd, timeout=600)
        return proc.returncode, proc.stdout, proc.stderr

    return run


@pytest.fixture(scope="session")
def small_artifacts(tmp_path_factory):
    """A 64-px ResNet-18 exported once to every format: {format: artifact folder}."""
    from edgebench.export import ExportRequest, run

    out = tmp_path_factory.mktemp("artifacts")
    results = run(ExportRequest(model="resnet18", weights="random", resolution=64, out_dir=out,
                                validate_samples=32))
    assert all(r.status == "ok" for r in results), [r.reason for r in results]
    return {r.format: r.artifact.path for r in results}
