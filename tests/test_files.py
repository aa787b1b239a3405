"""File identity (sha256) and edgebench's cache folder."""

import hashlib

import pytest

from edgebench.files import cache_dir, sha256_file, user_cache


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (3 << 20) + 7])
def test_sha256_is_hashlibs_whatever_the_chunking(tmp_path, size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == expected == sha256_file(str(path), chunk_bytes=4096)


def test_sha256_of_a_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        sha256_file(tmp_path / "missing")


def test_the_cache_follows_xdg_else_home_and_is_not_created(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache() == tmp_path / "xdg"
    assert cache_dir() == tmp_path / "xdg" / "edgebench"
    assert cache_dir("agent", "x.zip") == tmp_path / "xdg" / "edgebench" / "agent" / "x.zip"
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir("boards") == tmp_path / "home" / ".cache" / "edgebench" / "boards"
