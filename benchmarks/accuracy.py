"""Accuracy figures on all 10,000 Fashion-MNIST test images: train, export FP32 + INT8, eval.

Each model is trained by the real ``edgebench train`` command (wall time measured around
it), exported with ``--int8`` to ONNX, OpenVINO IR and TFLite, and every artifact plus the
FP32 PyTorch reference is scored by ``edgebench eval``. One table: training minutes,
PyTorch FP32 top-1, then per format the FP32 artifact's difference from PyTorch and the
INT8 artifact's drop and status. Its targets (below) are checked; exit 1 on a miss.
Run on an idle machine: ``python benchmarks/accuracy.py`` (about 45 minutes on 2 cores);
``--reuse`` keeps checkpoints already made (their training time is read from them).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from edgebench.formats import FORMATS
from edgebench.zoo.weights import read_meta

# (model, train arguments, minimum FP32 top-1 %, most training minutes)
RECIPES = {
    "resnet18": (["--epochs", "7"], 90.0, 20.0),
    "efficientnet_b0": (["--epochs", "10"], 88.0, 20.0),
    # real ImageNet weights from a package; the head alone, on 20k images at 96 px
    "efficientnet_lite0": (["--dataset", "fashion-mnist:train:20000", "--epochs", "10",
                            "--freeze-backbone", "--resolution", "96"], None, None),
}
FP32_WITHIN_POINTS = 0.1
INT8_WITHIN_POINTS = 1.0


def _edgebench(*args: str, ok=(0,)) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "edgebench", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        sys.exit(f"edgebench {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return seconds, done.stdout


def _train(model: str, args: list[str], checkpoint: Path, reuse: bool) -> float:
    if reuse and checkpoint.is_file():
        return read_meta(checkpoint).train_seconds
    dataset = [] if "--dataset" in args else ["--dataset", "fashion-mnist"]
    seconds, _ = _edgebench("train", model, *dataset, *args, "--out", str(checkpoint), "--json")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(RECIPES))
    parser.add_argument("--out", type=Path, default=Path("bench-accuracy"))
    parser.add_argument("--reuse", action="store_true", help="keep checkpoints already made")
    args = parser.parse_args()
    results, misses = {}, []
    for model in args.models:
        train_args, floor, minutes = RECIPES[model]
        checkpoint = args.out / "checkpoints" / f"{model}.pt"
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        print(f"{model}: training ({' '.join(train_args)})", file=sys.stderr, flush=True)
        train_s = _train(model, train_args, checkpoint, args.reuse)
        print(f"{model}: exporting", file=sys.stderr, flush=True)
        _edgebench("export", model, "--weights", str(checkpoint), "--int8",
                   "--out", str(args.out / "artifacts"), "--json", ok=(0, 3))
        print(f"{model}: scoring every artifact on 10,000 test images", file=sys.stderr, flush=True)
        folders = sorted(str(p) for p in (args.out / "artifacts" / model).iterdir() if p.is_dir())
        eval_s, out = _edgebench("eval", *folders, f"zoo:{model}", "--weights", str(checkpoint),
                                 "--dataset", "fashion-mnist:test", "--json", ok=(0, 3))
        rows = {(r["format"], r["precision"]): r for r in json.loads(out)}
        results[model] = {"train_s": train_s, "eval_s": eval_s, "meta": read_meta(checkpoint).to_dict(),
                          "rows": [r for r in rows.values()]}
        ref = rows[("torch", "fp32")]
        if floor is not None and ref["top1"] < floor:
            misses.append(f"{model} FP32 top-1 {ref['top1']:.2f}% < {floor}%")
        if minutes is not None and train_s > 60 * minutes:
            misses.append(f"{model} trained in {train_s / 60:.1f} min > {minutes}")
        for fmt in FORMATS:
            fp32, int8 = rows[(fmt, "fp32")], rows[(fmt, "int8")]
            if abs(fp32["drop_points"]) > FP32_WITHIN_POINTS:
                misses.append(f"{model} {fmt} FP32 is {fp32['drop_points']:+.2f} points off PyTorch")
            if int8["drop_points"] > INT8_WITHIN_POINTS and int8["status"] != "degraded":
                misses.append(f"{model} {fmt} INT8 drops {int8['drop_points']:.2f} points, not degraded")
    (args.out / "accuracy.json").write_text(json.dumps(results, indent=1))
    _print(results)
    for miss in misses:
        print(f"MISS: {miss}")
    return 1 if misses else 0


def _print(results: dict) -> None:
    head = ["model", "train min", "PyTorch FP32 %"]
    for fmt in FORMATS:
        head += [f"{fmt} FP32 diff", f"{fmt} INT8 % (drop, agree, status)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for model, r in results.items():
        rows = {(x["format"], x["precision"]): x for x in r["rows"]}
        ref = rows[("torch", "fp32")]
        cells = [model, f"{r['train_s'] / 60:.1f}", f"{ref['top1']:.2f}"]
        for fmt in FORMATS:
            fp32, int8 = rows[(fmt, "fp32")], rows[(fmt, "int8")]
            cells.append(f"{0.0 - fp32['drop_points'] + 0.0:+.2f}")
            cells.append(f"{int8['top1']:.2f} ({0.0 - int8['drop_points'] + 0.0:+.2f}, "
                         f"{100 * int8['top1_agreement']:.1f}%, {int8['status']})")
        print("| " + " | ".join(cells) + " |")
    print("FP32 diff and INT8 drop are in top-1 points against FP32 PyTorch on the same "
          "10,000 preprocessed images; agree = top-1 agreement with it.")


if __name__ == "__main__":
    sys.exit(main())
