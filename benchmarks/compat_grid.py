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


def _sweep(work: Path, target: str, resolution: int) -> None:
    quick = ["min_runs = 1", "min_seconds = 0", "warmup_runs = 0", "timeout_s = 900"] \
        if target != "local" else ["min_runs = 10", "min_seconds = 0.5"]
    config = work / f"grid-{target}.toml"
    config.write_text("\n".join([
        f"models = {_quoted(MODELS)}", 'formats = ["onnx", "openvino", "tflite"]',
        'precisions = ["fp32", "fp16", "int8"]', f"runtimes = {_quoted(RUNTIMES)}",
        f'targets = ["{target}"]', f"resolution = {resolution}", f'out = "{work / "artifacts"}"',
        f'store = "{work / "grid.db"}"', "threads = 2", *quick]) + "\n")
    _edgebench("sweep", str(config))


def _numerics(work: Path, target_name: str) -> list[str]:
    """FP16 and INT8 on the board against FP32 PyTorch on this host, per pinned runtime."""
    from edgebench.compat import against_host
    from edgebench.evaluate import EvalRequest
    from edgebench.formats import RUNTIMES as TABLE, parse_runtime
    from edgebench.targets import open_target

    folders = sorted(str(p) for p in (work / "artifacts").glob("*/*-*")
                     if p.name.split("-")[1] in ("fp16", "int8"))
    lines = []
    with open_target(target_name) as target:
        for runtime in RUNTIMES:
            for folder in folders:
                fmt = Path(folder).name.split("-")[0]
                if not TABLE[parse_runtime(runtime).runtime].loads(fmt, "x"):
                    continue
                request = EvalRequest(artifacts=(folder,), runtime=runtime,
                                      dataset="fashion-mnist:test:16", batch=8, timeout_s=900)
                for row in against_host(request, target):
                    host = (row.host_vs_reference or {}).get("max_rel_diff")
                    board = (row.target_vs_reference or {}).get("max_rel_diff")
                    lines.append(f"{target_name:6} {row.model:16} {row.format:9} {row.precision:5} "
                                 f"{runtime:22} {row.status.value:12} host {_e(host)} board "
                                 f"{_e(board)}  {row.reason[:90]}")
                    print(lines[-1], flush=True)
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
        for pin in PINNED:  # its cells' load_failed reason, not the end of the grid
            if _edgebench("targets", "bootstrap", target, "--runtimes", pin, check=False):
                print(f"{target}: {pin} could not be set up", flush=True)
    for target in targets:
        _sweep(args.work, target, args.resolution)
    _edgebench("report", "--store", str(args.work / "grid.db"), "--md", str(args.work / "grid.md"),
               "--html", str(args.work / "grid.html"))
    print((args.work / "grid.md").read_text())
    if not args.no_numerics:
        for target in targets:
            _numerics(args.work, target)


if __name__ == "__main__":
    main()
