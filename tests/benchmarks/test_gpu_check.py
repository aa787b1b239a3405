"""benchmarks/gpu_check.sh, the one prepared GPU check: it runs without arguments, prints its
table and exits 0 on a machine without a GPU, and its plumbing runs on the CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers import needs_cxx

ROOT = Path(__file__).resolve().parents[2]


def gpu_check(*args, tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONWARNINGS": "ignore"}
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), *args], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=900)


@pytest.mark.skipif(torch.cuda.is_available(), reason="with a GPU the whole check runs (minutes)")
def test_without_arguments_or_a_gpu_it_says_so_and_exits_0(tmp_path):
    done = gpu_check(tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no CUDA device: nothing to check here" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@needs_cxx
def test_its_cells_table_and_figures_on_the_cpu(tmp_path):
    figures = tmp_path / "figures.json"
    done = gpu_check("--device", "cpu", "--short", "--no-profile", "--models", "resnet18",
                     "--json", str(figures), tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("cell "))
    cells = [line.split()[0] for line in lines[header + 1:header + 5]]
    assert cells == ["eager", "eager+graph", "compiled+graph", "compiled+graph"]
    assert "0 checks not ok" in done.stdout
    mine = json.loads(figures.read_text())["models"]["resnet18"]
    # one compiled cell benched in two agent processes: the second finds the first's compile
    # in edgebench's cache folder (the CLI's `bench --compile` takes the same path)
    first, again = mine["compiled+graph"], mine["compiled+graph again"]
    compiles = [first["settings_used"]["compile"], again["settings_used"]["compile"]]
    assert [c["cache"] for c in compiles] == ["miss", "hit"]
    assert all(c["freezing"] for c in compiles)
    assert first["key"] == again["key"] and first["settings"]["compile"] is True
    assert {c["cache_dir"] for c in compiles} == {str(tmp_path / "cache" / "edgebench" / "torch-compile")}
    assert all(r["settings_used"]["mode"] == "compiled" for r in (first, again))
    assert mine["compiled+graph again"]["load_ms"] < mine["compiled+graph"]["load_ms"]
    assert 0 <= mine["rel_error_vs_fp32"]["compiled+graph"] < 1e-3  # FP32 compiled against eager


def test_an_unknown_model_is_a_one_line_error(tmp_path):
    done = gpu_check("--models", "resnet50,resnet5O", tmp_path=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: unknown model 'resnet5O': did you mean resnet50")


def test_an_unwritable_json_path_is_a_one_line_error_before_any_work(tmp_path):
    done = gpu_check("--json", str(tmp_path / "no" / "such" / "f.json"), tmp_path=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: cannot write --json ") and "Traceback" not in done.stderr
