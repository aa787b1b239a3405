"""Assertions shared by the tests."""

from pathlib import Path


def assert_one_line_error(code: int, stderr: str, *needles: str, expected_code: int | None = None):
    """A bad input ends with one `error:` line, a non-zero exit and no traceback."""
    assert code != 0
    if expected_code is not None:
        assert code == expected_code, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def no_valid_artifact_left(root: Path) -> bool:
    """Nothing a later run could take for a valid artifact: no manifest, no staging dir."""
    if not root.exists():
        return True
    return not list(root.rglob("manifest.json")) and not list(root.rglob(".staging-*"))
