"""The sweep's figures: a full sweep's time, the same sweep again, resume after SIGKILL, the
HTML report's size and opening time. Nothing else may run on the machine meanwhile.

Usage: python benchmarks/sweep.py [--quick] [--kills 3] [--work DIR]
--quick: resnet18 only at 64 px (a smoke run of this script, minutes instead of most of an hour).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

MODELS = ["resnet18", "resnet50", "efficientnet_b0", "efficientnet_lite0", "mobilenet_v3_large"]
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _config(work: Path, store: str, models: list[str], resolution: int | None) -> Path:
    path = work / f"{store}.toml"
    lines = [f"models = {models!r}".replace("'", '"'), 'formats = ["onnx", "openvino", "tflite"]',
             'precisions = ["fp32", "int8"]', f'out = "{work / "artifacts"}"',
             f'store = "{work / store}"', "threads = 2"]
    if resolution:
        lines.append(f"resolution = {resolution}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _sweep(config: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "edgebench", "sweep", str(config)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _cells(store: Path) -> dict[str, list[str]]:
    if not store.exists():
        return {}
    try:
        with sqlite3.connect(store) as db:
            rows = db.execute("SELECT cell_key, status FROM attempt ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # not created yet by the sweep being watched
        return {}
    out: dict[str, list[str]] = {}
    for key, status in rows:
        out.setdefault(key, []).append(status)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("bench-sweep"))
    args = parser.parse_args()
    models, resolution = (["resnet18"], 64) if args.quick else (MODELS, None)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)

    full = _config(args.work, "full.db", models, resolution)
    first = _sweep(full)
    again = _sweep(full)
    reference = _cells(args.work / "full.db")
    print(f"sweep of {len(models)} models x 3 formats x 2 precisions: {first / 60:.1f} min, "
          f"{len(reference)} cells; the same sweep again: {again:.1f} s")

    killed = _config(args.work, "killed.db", models, resolution)
    killed_db = args.work / "killed.db"
    rng = random.Random(0)
    # Kill while cells are in hand: each kill waits for a random number of stored cells, then a
    # random moment inside the next cell (artifacts are already exported, so a kill timed by
    # the first sweep's length would land after the end).
    marks = sorted(rng.sample(range(1, len(reference)), min(args.kills, len(reference) - 1)))
    for n, mark in enumerate(marks):
        proc = subprocess.Popen([sys.executable, "-m", "edgebench", "sweep", str(killed)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        while proc.poll() is None and len(_cells(killed_db)) < mark:
            time.sleep(0.2)
        time.sleep(rng.uniform(0.0, 3.0))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print(f"kill {n + 1} (after {mark} cells + a random moment): {len(_cells(killed_db))} cells stored")
    _sweep(killed)
    resumed = _cells(args.work / "killed.db")
    same = sorted(resumed) == sorted(reference)
    single = all(len(v) == 1 for v in resumed.values())
    print(f"after {args.kills} SIGKILLs and a resume: same cell set {same}, one terminal attempt "
          f"each {single} ({len(resumed)} cells)")

    html = args.work / "report.html"
    subprocess.run([sys.executable, "-m", "edgebench", "report", "--store", str(args.work / "full.db"),
                    "--html", str(html)], check=True, stdout=subprocess.DEVNULL)
    chromium = shutil.which("chromium")
    if chromium:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={args.work / 'chr'}",
                            "--dump-dom", html.as_uri()], check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        opened = f"opens in headless Chromium in {sorted(times)[1]:.2f} s (median of 3, browser start included)"
    else:
        opened = "not opened: no chromium"
    print(f"HTML report: {html.stat().st_size / 1e6:.2f} MB, {opened}")


if __name__ == "__main__":
    main()
