import hashlib
import json
import os

import pytest

from edgebench import artifacts
from edgebench.errors import OutputError
from edgebench.manifest import FileEntry, InputSpec, Manifest, ModelInfo, WeightsInfo
from edgebench.results import Status
from edgebench.schema import SCHEMA_VERSION


ABC_SHA256 = hashlib.sha256(b"abc").hexdigest()


def _manifest(key="k", outcome="ok", size=3, sha256=ABC_SHA256):
    return Manifest(model=ModelInfo(name="m", resolution=8), weights=WeightsInfo("random"),
                    format="onnx", precision="fp32",
                    input=InputSpec("x", (1, 3, 8, 8), "float32"), cache_key=key,
                    files=(FileEntry("model.onnx", size, sha256),), status=Status(outcome),
                    reason="")


def _commit(final, **kw):
    with artifacts.staging(final) as stage:
        (stage / "model.onnx").write_bytes(b"abc")
        return artifacts.commit(stage, final, _manifest(**kw))


def test_commit_moves_a_complete_folder_into_place(tmp_path):
    final = tmp_path / "m" / "onnx-fp32"
    art = _commit(final)
    assert art.path == final and (final / "model.onnx").read_bytes() == b"abc"
    assert json.loads((final / "manifest.json").read_text())["schema_version"] == SCHEMA_VERSION
    assert artifacts.read(final).manifest == art.manifest
    assert [p.name for p in final.parent.iterdir()] == ["onnx-fp32"]


def test_an_error_mid_write_leaves_nothing_behind(tmp_path):
    final = tmp_path / "m" / "onnx-fp32"
    with pytest.raises(RuntimeError):
        with artifacts.staging(final) as stage:
            (stage / "model.onnx").write_bytes(b"half")
            raise RuntimeError("killed")
    assert list(final.parent.iterdir()) == []


def test_replacing_keeps_the_old_artifact_until_the_new_one_is_complete(tmp_path):
    final = tmp_path / "m" / "onnx-fp32"
    _commit(final, key="old")
    with pytest.raises(RuntimeError):
        with artifacts.staging(final):
            raise RuntimeError("interrupted")
    assert artifacts.read(final).manifest.cache_key == "old"
    _commit(final, key="new")
    assert artifacts.read(final).manifest.cache_key == "new"
    assert [p.name for p in final.parent.iterdir()] == ["onnx-fp32"]


def test_stale_staging_of_a_dead_process_is_cleaned(tmp_path):
    parent = tmp_path / "m"
    stale = parent / ".staging-onnx-fp32-999999999"
    stale.mkdir(parents=True)
    (stale / "model.onnx").write_bytes(b"x")
    live = parent / f".staging-onnx-fp32-{os.getppid()}"
    live.mkdir()
    artifacts.clean_stale(parent)
    assert not stale.exists() and live.exists()


@pytest.mark.parametrize("change,hit", [({}, True), ({"key": "other"}, False),
                                        ({"outcome": "failed"}, True), ({"size": 4}, False),
                                        ({"outcome": "degraded"}, True),
                                        ({"sha256": "0" * 64}, False)])
def test_find_cached(tmp_path, change, hit):
    final = tmp_path / "onnx-fp32"
    _commit(final, **change)
    assert (artifacts.find_cached(final, "k") is not None) == hit


def test_cached_artifact_whose_file_vanished_is_a_miss(tmp_path):
    final = tmp_path / "onnx-fp32"
    _commit(final)
    (final / "model.onnx").unlink()
    assert artifacts.find_cached(final, "k") is None


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError, match="not writable.*--out"):
        artifacts.ensure_writable(blocker / "sub")


def test_cache_key_is_order_independent():
    assert artifacts.cache_key({"a": 1, "b": [1, 2]}) == artifacts.cache_key({"b": [1, 2], "a": 1})
    assert artifacts.cache_key({"a": 1}) != artifacts.cache_key({"a": 2})
