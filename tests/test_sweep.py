"""``edgebench sweep``: a real matrix into a real store; resume after SIGKILL; bad files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from edgebench.results import Status
from edgebench.store import Store
from tests.helpers import assert_one_line_error, needs_cxx


def _config(tmp_path, store: str, **extra) -> str:
    lines = {"models": '["resnet18"]', "formats": '["onnx", "tflite"]', "resolution": "32",
             "warmup_runs": "1", "min_runs": "3", "min_seconds": "0.0",
             "out": json.dumps(str(tmp_path.parent / "sweep-artifacts")),
             "store": json.dumps(str(tmp_path / store)), **extra}
    path = tmp_path / f"{store}.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in lines.items()))
    return str(path)


def _keys(store_path) -> list[tuple[str, int, str]]:
    with Store(store_path) as store:
        return sorted((a.cell_key, a.n, a.status.value) for a in store.attempts())


@pytest.mark.slow
def test_a_sweep_again_measures_nothing_new(tmp_path, run_cli):
    config = _config(tmp_path, "a.db")
    code, out, err = run_cli("sweep", config, "--json")
    assert code == 0, err
    first = json.loads(out)
    kinds = sorted(r["kind"] for r in first["measured"])
    assert kinds == ["export", "export", "latency", "latency", "latency"]  # ORT + OV, TFLite
    assert all(r["status"] == "ok" for r in first["measured"]), first["measured"]
    before = _keys(tmp_path / "a.db")
    code, out, err = run_cli("sweep", config, "--json")
    second = json.loads(out)
    assert code == 0 and second["measured"] == [] and second["skipped"] == 3
    assert _keys(tmp_path / "a.db") == before  # nothing measured twice
    with Store(tmp_path / "a.db") as store:
        assert [r["id"] for r in store.runs()] == [first["run"], second["run"]]


def test_a_sweep_killed_midway_resumes_to_the_same_cells(tmp_path, run_cli):
    reference = _config(tmp_path, "ref.db")
    assert run_cli("sweep", reference)[0] == 0
    config = _config(tmp_path, "killed.db", min_seconds="1.0")
    for _ in range(2):  # killed twice at different moments, then run to the end
        proc = subprocess.Popen([sys.executable, "-m", "edgebench", "sweep", config],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if (tmp_path / "killed.db").exists() and _count(tmp_path / "killed.db") >= 3 + _:
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)  # the agent it was running too
        proc.wait()
    assert _count(tmp_path / "killed.db") < len(_keys(tmp_path / "ref.db"))  # work was left
    code, _, err = run_cli("sweep", config)
    assert code == 0, err
    done, ref = _keys(tmp_path / "killed.db"), _keys(tmp_path / "ref.db")
    assert [(k, s) for k, _, s in done] == [(k, s) for k, _, s in ref]
    assert all(n == 1 for _, n, _ in done)  # one terminal attempt each, none duplicated


def _count(path) -> int:
    try:
        with sqlite3.connect(path, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM attempt").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("text, needle", [
    ("models = [\"resnet18\"\n", "line 1, column 21"),
    ("models = [\"resnet18\"]\nformats = onnx\n", "line 2, column 11"),
    ("models = [\"resnet18\"]\ncolour = \"red\"\n", "valid keys are models, formats"),
    ("models = []\n", "models is empty"),
    ("models = [\"resnet9000\"]\n", "resnet9000"),
    ("models = [\"resnet18\"]\nformats = [\"onnx\", \"caffe\"]\n", "unknown format 'caffe'"),
    ("models = [\"resnet18\"]\nbatch = \"four\"\n", "batch = 'four' is not a int"),
    ("models = [\"resnet18\"]\nthreads = 0\n", "threads"),
    ("models = [\"resnet18\"]\ndataset = \"mnist-of-dreams\"\n", "mnist-of-dreams"),
    ("models = [\"resnet18\"]\ntorch_modes = [\"turbo\"]\n", "unknown torch mode 'turbo'"),
    ("models = [\"resnet18\"]\nno_worker_timeout_s = nan\n", "no_worker_timeout_s"),
    ("models = [\"resnet18\"]\nno_worker_timeout_s = -1.0\n", "no_worker_timeout_s"),
    ("models = [\"resnet18\"]\nconverters = [\"tf2onnx\"]\n", "unknown converter 'tf2onnx'"),
    ("models = [\"resnet18\"]\nconverters = []\n", "converters is empty"),
])
def test_bad_sweep_files_are_one_line(tmp_path, run_cli, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, _, err = run_cli("sweep", path)
    assert_one_line_error(code, err, needle, expected_code=2)
    assert not (tmp_path / "edgebench.db").exists()


@pytest.mark.slow
@needs_cxx
def test_a_sweep_measures_the_pytorch_reference_in_each_torch_mode(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the compile runs here
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    config = _config(tmp_path, "m.db", formats='["onnx"]', runtimes='["onnxruntime"]',
                     precisions='["fp32", "int8"]', torch_modes='["eager", "compiled+graph"]')
    code, out, err = run_cli("sweep", config, "--json")
    assert code == 0, err
    torch_cells = [r for r in json.loads(out)["measured"] if r.get("runtime") == "torch"]
    # int8 is not a torch precision: one fp32 cell per mode, each at the sweep's 32 px
    assert sorted(r["settings_used"]["mode"] for r in torch_cells) == ["compiled", "eager"]
    assert all(r["status"] == "ok" and r["input_shape"] == [1, 3, 32, 32] for r in torch_cells)
    assert len({r["key"] for r in torch_cells}) == 2
    code, out, _ = run_cli("sweep", config, "--json")
    assert code == 0 and json.loads(out)["measured"] == []  # both modes found in the store


def test_a_store_that_is_not_sqlite_is_refused_untouched(tmp_path, run_cli):
    store = tmp_path / "notes.txt"
    store.write_text("my notes")
    code, _, err = run_cli("sweep", _config(tmp_path, "x.db"), "--store", store)
    assert code != 0 and "not an SQLite file" in err and "Traceback" not in err
    assert store.read_text() == "my notes"


def test_results_of_a_sweep_are_typed_records(tmp_path, run_cli):
    config = _config(tmp_path, "t.db", formats='["onnx"]', runtimes='["onnxruntime", "tflite"]')
    assert run_cli("sweep", config)[0] == 0
    with Store(tmp_path / "t.db") as store:
        latest = {(a.record.KIND, getattr(a.record, "runtime", None)): a for a in store.latest_attempts()}
    assert latest[("latency", "onnxruntime")].status == Status.OK
    unsupported = latest[("latency", "tflite")]  # the table's answer, not a failure
    assert unsupported.status == Status.UNSUPPORTED and "tflite does not load onnx" in unsupported.reason


def test_a_sweep_with_a_data_set_scores_every_artifact_once_per_runtime(tmp_path, run_cli,
                                                                         fm_checkpoint):
    checkpoint = fm_checkpoint
    config = _config(tmp_path, "acc.db", formats='["onnx"]', runtimes='["onnxruntime", "openvino"]',
                     weights=json.dumps(str(checkpoint)), dataset='"fashion-mnist:test:200"',
                     out=json.dumps(str(tmp_path / "acc-artifacts")))
    code, out, err = run_cli("sweep", config, "--json")
    assert code == 0, err
    accuracy = {r["runtime"]: r for r in json.loads(out)["measured"] if r["kind"] == "accuracy"}
    assert set(accuracy) == {"onnxruntime", "openvino"}  # the ONNX file in both runtimes
    for row in accuracy.values():
        assert row["status"] == "ok" and row["samples"] == 200, row["reason"]
        assert row["reference_top1"] is not None
    code, out, _ = run_cli("sweep", config, "--json")
    assert code == 0 and json.loads(out)["measured"] == []  # scored once, not again
    code, out, _ = run_cli("report", "--store", tmp_path / "acc.db", "--json", "-")
    cells = {c["runtime"]: c for c in json.loads(out)["cells"]}
    assert {r: c["top1"] for r, c in cells.items()} == {r: a["top1"] for r, a in accuracy.items()}
