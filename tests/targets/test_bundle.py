"""The agent as one zip: exactly this edgebench's Python sources, the same bytes for the same
sources, importable straight from the zip."""

import os
import subprocess
import sys
import zipfile

import pytest

from edgebench.targets import bundle


@pytest.fixture
def fresh_bundle(tmp_path, monkeypatch):
    """agent_bundle() built into a cache folder of this test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    bundle.agent_bundle.cache_clear()
    yield bundle.agent_bundle
    bundle.agent_bundle.cache_clear()  # later callers build into their own cache again


def test_it_holds_every_source_and_nothing_else(fresh_bundle, tmp_path):
    path = fresh_bundle()
    assert path.parent == tmp_path / "edgebench" / "agent" and path.suffix == ".zip"
    sources = sorted(p for p in bundle.PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names == [str(p.relative_to(bundle.PACKAGE.parent)) for p in sources]
        assert "edgebench/agent.py" in names and "edgebench/runtimes/null.py" in names
        assert all(n.startswith("edgebench/") and n.endswith(".py") for n in names)
        assert z.read("edgebench/agent.py") == (bundle.PACKAGE / "agent.py").read_bytes()
        assert {i.date_time for i in z.infolist()} == {bundle.EPOCH}


def test_the_same_sources_give_the_same_bytes(fresh_bundle):
    first = fresh_bundle()
    data = first.read_bytes()
    assert fresh_bundle() == first  # built once per process
    bundle.agent_bundle.cache_clear()
    os.remove(first)
    again = fresh_bundle()
    assert again == first and again.read_bytes() == data
    assert not list(first.parent.glob("*.partial-*"))


def test_python_imports_the_agent_from_the_zip(fresh_bundle, tmp_path):
    path = fresh_bundle()
    env = {**os.environ, "PYTHONPATH": str(path)}
    done = subprocess.run([sys.executable, "-c", "import edgebench.agent as a; print(a.__file__)"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(path / "edgebench" / "agent.py")
