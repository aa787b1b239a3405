"""The compatibility grid across runtime versions and CPU generations: resnet18 and
efficientnet_b0 (random weights with re-estimated BatchNorm statistics) x {onnx, openvino,
tflite} x {fp32, fp16, int8} x pinned onnxruntime / OpenVINO / TFLite versions, on this machine
and on the targets given (emulated boards: `edgebench targets emulate rpi4|rpi5` first), through
`edgebench sweep` into one results store, then `edgebench report` on it. On boards, FP16 and
INT8 artifacts are also judged against FP32 PyTorch on this host (`compat.against_host`).

Usage: python benchmarks/compat_grid.py [--work DIR] [--targets local,rpi4,rpi5] [--resolution 128]
Sets up the pinned environments first (`edgebench targets bootstrap TARGET --runtimes ...`),
minutes per environment the first time. Timings on emulated boards are not speeds: they run
one timed inference per cell.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

PINNED = ("onnxruntime==1.16.3", "onnxruntime==1.18.1", "openvino==2023.3.0", "openvino==2024.0.0",
          "openvino==2026.3.0", "tflite-runtime==2.14.0")
RUNTIMES = ("onnxruntime", "openvino", "tflite", *PINNED)  # unpinned: the environment's own
MODELS = ("resnet18", "efficientnet_b0")


def _edgebench(*args: str, check: bool = True) -> int:
    return subprocess.run([sys.executable, "-m", "edgebench", *args], check=check).returncode


def _quoted(items) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def _sweep(work: Path, targets: list[str], resolution: int, name: str) -> None:
    """One sweep: the boards' cells run in parallel, one at a time per board."""
    quick = ["min_runs = 1", "min_seconds = 0", "warmup_runs = 0", "timeout_s = 900"] \
        if targets != ["local"] else ["min_runs = 10", "min_seconds = 0.5"]
    config = work / f"grid-{name}.toml"
    config.write_text("\n".join([
        f"models = {_quoted(MODELS)}", 'formats = ["onnx", "openvino", "tflite"]',
        'precisions = ["fp32", "fp16", "int8"]', f"runtimes = {_quoted(RUNTIMES)}",
        f"targets = {_quoted(targets)}", f"resolution = {resolution}",
        f'out = "{work / "artifacts"}"', f'store = "{work / "grid.db"}"', "threads = 2",
        *quick]) + "\n")
    _edgebench("sweep", str(config))


def _missing(target: str) -> list[str]:
    """The pinned runtimes the target has no environment for yet."""
    from edgebench.targets import envs, profiles

    have = envs.installed() if target == "local" else list(profiles.load()[target].venvs)
    return [pin for pin in PINNED if pin not in have]


def _numerics(work: Path, target_name: str) -> list[str]:
    """FP16 and INT8 on the board against FP32 PyTorch on this host, per pinned runtime."""
    from edgebench.compat import against_host
    from edgebench.evaluate import EvalRequest
    from edgebench.targets import open_target

    folders = sorted(str(p) for p in (work / "artifacts").glob("*/*-*")
                     if p.name.split("-")[1] in ("fp16", "int8"))
    request = EvalRequest(artifacts=tuple(folders), runtime=",".join(RUNTIMES),
                          dataset="fashion-mnist:test:16", batch=8, timeout_s=900)
    with open_target(target_name) as target:  # each artifact in every runtime that loads it
        rows = against_host(request, target)
    lines = []
    for row in rows:
        host = (row.host_vs_reference or {}).get("max_rel_diff")
        board = (row.target_vs_reference or {}).get("max_rel_diff")
        lines.append(f"{target_name:6} {row.model:16} {row.format:9} {row.precision:5} "
                     f"{row.runtime:22} {row.status.value:12} host {_e(host)} board "
                     f"{_e(board)}  {row.reason[:110]}")
        print(lines[-1], flush=True)
    (work / f"numerics-{target_name}.json").write_text(json.dumps([r.to_dict() for r in rows]))
    return lines


def _e(x) -> str:
    return f"{x:.1e}" if isinstance(x, float) else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("bench-compat"))
    parser.add_argument("--targets", default="local")
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--no-numerics", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    for target in targets:  # one at a time: a version without a wheel for the board is
        for pin in _missing(target):  # its cells' load_failed reason, not the end of the grid
            if _edgebench("targets", "bootstrap", target, "--runtimes", pin, check=False):
                print(f"{target}: {pin} could not be set up", flush=True)
    if "local" in targets:  # alone: its timings are speeds
        _sweep(args.work, ["local"], args.resolution, "local")
    boards = [t for t in targets if t != "local"]
    if boards:
        _sweep(args.work, boards, args.resolution, "boards")
    _edgebench("report", "--store", str(args.work / "grid.db"), "--md", str(args.work / "grid.md"),
               "--html", str(args.work / "grid.html"))
    print((args.work / "grid.md").read_text())
    if not args.no_numerics:
        for target in boards:  # this host is the other side
            _numerics(args.work, target)


if __name__ == "__main__":
    main()
