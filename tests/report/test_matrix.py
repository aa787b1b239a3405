"""The report's grid, recommendations and Pareto fronts, from a real results store."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace

from edgebench.report.matrix import pareto, recommend, rows, to_csv, to_markdown
from edgebench.results import Status
from edgebench.store import Attempt, Store
from tests.helpers import assert_one_line_error
from tests.report.conftest import _latency


def test_rows_join_accuracy_speedup_and_hide_emulated_speeds(store):
    with Store(store) as s:
        grid = rows(s.latest_attempts())
    by = {(r.target, r.model, r.precision, r.format, r.runtime): r for r in grid}
    int8 = by[("local", "resnet18", "int8", "onnx", "onnxruntime")]
    assert int8.speedup_vs_fp32 == 2.5 and int8.top1 == 91.1 and int8.drop_points == 0.2
    emulated = by[("pi<script>", "resnet18", "fp32", "onnx", "onnxruntime")]
    assert emulated.emulated and emulated.p50_ms is None and emulated.throughput_ips is None


def test_a_second_converter_is_its_own_row_with_its_own_fp32(tmp_path):
    """tflite INT8 from two converters: two rows, each against its own converter's FP32."""
    path = tmp_path / "c.db"
    with Store(path) as s:
        run = s.begin_run([], {}, {})
        for record in (_latency("efficientnet_b0", "fp32", "tflite", "tflite", 6.2, 21.0),
                       _latency("efficientnet_b0", "int8", "tflite", "tflite", 4.1, 6.0),
                       _latency("efficientnet_b0", "fp32", "tflite", "tflite", 6.0, 21.0,
                                converter="onnx2tf"),
                       _latency("efficientnet_b0", "int8", "tflite", "tflite", 3.0, 6.2,
                                converter="onnx2tf")):
            s.record(run, record, 0.0)
        grid = rows(s.latest_attempts())
    int8 = {r.converter: r for r in grid if r.precision == "int8"}
    assert set(int8) == {None, "onnx2tf"}
    assert int8["onnx2tf"].speedup_vs_fp32 == 2.0 and int8[None].speedup_vs_fp32 == round(6.2 / 4.1, 3)
    assert int8["onnx2tf"].made_as == "tflite (onnx2tf)" and int8[None].made_as == "tflite"
    table = list(csv.DictReader(io.StringIO(to_csv(grid))))
    assert sorted(r["converter"] for r in table if r["precision"] == "int8") == ["", "onnx2tf"]
    assert "tflite (onnx2tf)" in to_markdown(grid, recommend(grid))


def test_the_recommendation_is_the_fastest_within_the_floor(store):
    with Store(store) as s:
        grid = rows(s.latest_attempts())
    local = {r.target: r for r in recommend(grid)}["local"]
    # efficientnet_b0 INT8 is faster but 8 points down: outside the 1-point floor
    assert (local.fastest.model, local.fastest.precision) == ("resnet18", "int8")
    assert (local.smallest.model, local.smallest.precision) == ("resnet18", "int8")
    loose = {r.target: r for r in recommend(grid, floor_points=10)}["local"]
    assert loose.fastest.model == "efficientnet_b0"
    pi = {r.target: r for r in recommend(grid)}["pi<script>"]
    assert pi.fastest is None and "emulated" in pi.why


def test_pareto_front_follows_olives_rule():
    points = [(10, 90), (5, 85), (5, 85), (12, 89), (3, 70), (20, 91)]
    assert pareto(points) == [0, 1, 2, 4, 5]  # (12, 89) is dominated by (10, 90); ties stay


def test_csv_and_markdown_carry_every_row_escaped(store):
    with Store(store) as s:
        grid = rows(s.latest_attempts())
    table = list(csv.DictReader(io.StringIO(to_csv(grid))))
    assert len(table) == len(grid) and {r["status"] for r in table} >= {"ok", "load_failed"}
    md = to_markdown(grid, recommend(grid))
    assert "object is not initialized \\| x" in md  # a | in a reason cannot break the table
    assert "## pi<script>" in md  # Markdown keeps the name; the HTML writer escapes it


def test_report_command_prints_writes_and_refuses_bad_runs(store, tmp_path, run_cli):
    code, out, err = run_cli("report", "--store", store)
    assert code == 0, err
    assert "local: fastest: resnet18 int8 onnx in onnxruntime" in out
    assert "object is not initialized" in out
    code, out, _ = run_cli("report", "--store", store, "--json", "-", "--md", tmp_path / "r.md",
                           "--csv", tmp_path / "r.csv")
    data = json.loads(out)
    assert code == 0 and len(data["cells"]) == 6 and data["recommendations"][0]["fastest"]
    assert (tmp_path / "r.md").read_text().startswith("# edgebench report")
    code, _, err = run_cli("report", "--store", store, "--run", 99)
    assert_one_line_error(code, err, "run 99 is not in", "its runs are 1", expected_code=2)
    code, _, err = run_cli("report", "--store", tmp_path / "none.db")
    assert_one_line_error(code, err, "no results store", expected_code=2)
    assert not (tmp_path / "none.db").exists()


def test_report_needs_no_runtime(store):
    blocked = ("torch", "onnxruntime", "openvino", "tensorflow", "ai_edge_litert")
    code = ("import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked) +
            "from edgebench.cli import main\nmain(['report', '--store', sys.argv[1]])\n")
    done = subprocess.run([sys.executable, "-c", code, str(store)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "fastest" in done.stdout


def test_bench_adds_its_cells_to_a_store_that_report_reads(small_artifacts, tmp_path, run_cli):
    db, html = tmp_path / "s.db", tmp_path / "r.html"
    code, _, err = run_cli("bench", small_artifacts["onnx"], "--runtime", "onnxruntime",
                           "--warmup", 1, "--min-runs", 3, "--min-seconds", 0, "--store", db)
    assert code == 0, err
    code, out, err = run_cli("report", "--store", db, "--html", html)
    assert code == 0, err
    assert f"HTML report: {html}" in out and "resnet18" in html.read_text()
    with Store(db) as s:
        (attempt,) = s.attempts()
    assert attempt.record.runtime == "onnxruntime" and attempt.status.value == "ok"


def test_a_bad_store_is_refused_before_anything_runs(small_artifacts, tmp_path, run_cli):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    code, out, err = run_cli("bench", small_artifacts["onnx"], "--runtime", "onnxruntime",
                             "--store", notes)
    assert code != 0 and "not an SQLite file" in err and out == ""
    assert notes.read_text() == "mine"


def test_a_known_version_limit_is_named_and_checked_against_the_cell():
    old = {"openvino": "2023.3.0"}
    cells = [replace(_latency("resnet18", "fp32", "openvino", "openvino==2023.3.0", None, 46.0,
                              status=Status.LOAD_FAILED, reason="opset14"), tools=old),
             replace(_latency("resnet18", "int8", "openvino", "openvino==2023.3.0", 3.0, 12.0),
                     tools=old),
             replace(_latency("resnet18", "fp32", "onnx", "openvino==2023.3.0", 9.0, 46.0), tools=old)]
    grid = {(r.precision, r.format): r for r in rows(
        [Attempt(c.key, 1, 1, c.status, c.reason, c, 0.0, 0.0) for c in cells])}
    assert grid[("fp32", "openvino")].limit_held is True
    assert "before 2024.0" in grid[("fp32", "openvino")].known_limit
    assert grid[("int8", "openvino")].limit_held is False  # ran: the table is checked, not trusted
    assert grid[("fp32", "onnx")].known_limit is None
    assert "held here" in grid[("fp32", "openvino")].limit_note
    assert grid[("fp32", "onnx")].limit_note is None


def test_what_the_runtime_reports_it_executed_is_a_column():
    asked = [({"executed_precision": "bf16"}, "bf16"),
             ({"xnnpack": True, "xnnpack_applied": False}, "no XNNPACK"),
             ({"xnnpack": True, "xnnpack_applied": True}, "XNNPACK"),
             ({"xnnpack": False, "xnnpack_applied": False}, None),  # not asked: not news
             ({"executed_precision": "fp16", "mode": "compiled+graph"}, "fp16, compiled+graph"),
             ({}, None)]
    cells = [replace(_latency(f"m{n}", "fp16", "tflite", "tflite", 3.0, 4.0), settings_used=used)
             for n, (used, _) in enumerate(asked)]
    grid = {r.model: r for r in rows([Attempt(c.key, 1, 1, c.status, c.reason, c, 0.0, 0.0)
                                      for c in cells])}
    assert [grid[f"m{n}"].executed for n in range(len(asked))] == [want for _, want in asked]
    table = list(csv.DictReader(io.StringIO(to_csv(list(grid.values())))))
    assert {r["model"]: r["executed"] for r in table}["m1"] == "no XNNPACK"
