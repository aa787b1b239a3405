"""tests/ mirrors edgebench/ (the README's layout section): every module with logic has a test
module of its own, so a newcomer finds a module's tests where the module is."""

from pathlib import Path

import pytest

import edgebench

PACKAGE = Path(edgebench.__file__).parent
TESTS = Path(__file__).parent
# docstrings and re-exports, and process entry points that the CLI and onnx2tf tests run
EXEMPT = {"__init__.py", "__main__.py", "data/__init__.py", "export/__init__.py",
          "report/__init__.py", "zoo/__init__.py", "formats/__init__.py",
          "export/onnx2tf_main.py"}
# a private module's tests drop its underscore; layerwise's __init__ holds the package's logic
RENAMED = {"layerwise/__init__.py": "layerwise/test_layerwise.py"}


def _test_module(module: Path) -> Path:
    rel = module.relative_to(PACKAGE)
    if rel.as_posix() in RENAMED:
        return TESTS / RENAMED[rel.as_posix()]
    if rel.name == "__init__.py":  # a package's own module: tests/test_PKG.py beside the package
        return TESTS / rel.parent.parent / f"test_{rel.parent.name}.py"
    return TESTS / rel.parent / f"test_{rel.stem.lstrip('_')}.py"


MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                 if p.relative_to(PACKAGE).as_posix() not in EXEMPT)


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_its_test_module(module):
    expected = _test_module(PACKAGE / module)
    assert expected.is_file(), f"edgebench/{module} has no {expected.relative_to(TESTS.parent)}"


def test_the_rule_sees_the_whole_package():
    # a glob that found nothing would pass every case above
    assert len(MODULES) > 50
    assert _test_module(PACKAGE / "targets" / "ssh.py") == TESTS / "targets" / "test_ssh.py"
    assert _test_module(PACKAGE / "targets" / "__init__.py") == TESTS / "test_targets.py"
    assert _test_module(PACKAGE / "zoo" / "_registry.py") == TESTS / "zoo" / "test_registry.py"
