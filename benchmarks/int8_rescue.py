"""INT8 rescue figures: per trained checkpoint and format, plain INT8 against FP32, and the
rung of the rescue ladder that met the floor (or "unrescuable" with every rung's result).

Each checkpoint goes through the real ``edgebench export MODEL --weights CK --int8
--accuracy-floor 99% --json``: every rung is exported, scored on the checkpoint's own
validation split against FP32 PyTorch, and timed side by side with plain INT8 and FP32 (p50,
batch 1). Its target is checked: every cell whose plain INT8 is within
``MUST_RESCUE_POINTS`` of FP32 is rescued, and no rescued rung lacks its measured accuracy.
Exit 1 on a miss. Checkpoints are files named MODEL[-NOTE].pt made by ``edgebench train``:

    edgebench train resnet18 --dataset fashion-mnist:train:6000 --epochs 2 --resolution 64 --out ck/resnet18.pt
    edgebench train efficientnet_b0 --dataset fashion-mnist:train:6000 --epochs 2 --resolution 64 --out ck/efficientnet_b0.pt
    edgebench train efficientnet_lite0 --dataset fashion-mnist:train:2000 --epochs 2 --resolution 96 --freeze-backbone --out ck/efficientnet_lite0-frozen.pt
    edgebench train efficientnet_lite0 --dataset fashion-mnist:train:3000 --epochs 2 --resolution 96 --out ck/efficientnet_lite0-finetuned.pt

With ``--onnx2tf``, each checkpoint's TFLite INT8 is also made by the second converter
(``--converter onnx2tf``) and compared with the default converter's: top-1 on the same images and
p50 side by side in one bench run (each its own process, the default harness).

Run on an idle machine: ``python benchmarks/int8_rescue.py ck/*.pt --floor-samples 2000 --onnx2tf``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

MUST_RESCUE_POINTS = 3.0
UNMET = 4  # export's exit code when a format's ladder met no floor


def _edgebench(args: list[str], ok=(0,)) -> tuple[object, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "edgebench", *args], capture_output=True, text=True)
    if done.returncode not in ok:
        sys.exit(f"edgebench {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout), time.perf_counter() - started


def _export(checkpoint: Path, out: Path, floor: str, samples: int | None) -> tuple[dict, float]:
    model = checkpoint.stem.split("-")[0]
    return _edgebench(["export", model, "--weights", str(checkpoint), "--int8", "--accuracy-floor", floor,
                       "--out", str(out), "--json", *(["--floor-samples", str(samples)] if samples else [])],
                      ok=(0, UNMET))


def _converters(checkpoint: Path, out: Path, samples: int | None) -> dict:
    """TFLite by the default converter and by onnx2tf: each artifact's export status, top-1 and
    p50 (an export that failed is a result too)."""
    model = checkpoint.stem.split("-")[0]
    made, _ = _edgebench(["export", model, "--weights", str(checkpoint), "--formats", "tflite", "--int8",
                          "--converter", "onnx2tf", "--out", str(out), "--json"], ok=(0, 3, 4, 8))
    names = ("tflite-fp32", "tflite-int8", "tflite-fp32-onnx2tf", "tflite-int8-onnx2tf")
    status = {c["name"]: (c["status"], c["reason"]) for c in made}
    folders = {n: str(out / model / n) for n in names if (out / model / n / "manifest.json").is_file()}
    for name, folder in folders.items():
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
        status.setdefault(name, (manifest["status"], manifest["reason"]))
    meta = json.loads((Path(folders["tflite-int8"]) / "manifest.json").read_text())["dataset"]
    dataset = f"{meta['name']}:{meta['eval_split']}" + (f":{samples}" if samples else "")
    scored, _ = _edgebench(["eval", *folders.values(), "--dataset", dataset, "--json"], ok=(0, 3, 9))
    timed, _ = _edgebench(["bench", *folders.values(), "--json"], ok=(0, 9))
    top1 = {Path(r["label"]).name: r["top1"] for r in scored}
    p50 = {Path(r["label"]).name: r["latency"]["p50_ms"] for r in timed if r.get("latency")}
    return {n: {"top1": top1.get(n), "p50_ms": p50.get(n), "export_status": status.get(n, ("missing", ""))[0],
                "reason": status.get(n, ("", ""))[1]} for n in names}


def _cells(name: str, ladders: list[dict]) -> list[dict]:
    cells = []
    for x in ladders:
        plain = x["rungs"][0]
        chosen = next((r for r in x["rungs"] if r["name"] == x["chosen"]), None)
        cells.append({"checkpoint": name, "format": x["format"], "fp32_top1": x["fp32_top1"],
                      "threshold": x["threshold"], "plain_top1": plain["top1"],
                      "plain_p50_ms": plain["p50_ms"], "fp32_p50_ms": x["fp32_p50_ms"],
                      "chosen": x["chosen"], "chosen_rung": chosen["rung"] if chosen else None,
                      "chosen_top1": chosen["top1"] if chosen else None,
                      "chosen_p50_ms": chosen["p50_ms"] if chosen else None,
                      "slower_than_fp32": x["slower_than_fp32"],
                      "rungs": [(r["name"], r["top1"], r["p50_ms"], r["status"]) for r in x["rungs"]]})
    return cells


def _misses(cells: list[dict]) -> list[str]:
    misses = []
    for c in cells:
        where = f"{c['checkpoint']} {c['format']}"
        if c["chosen"] and c["chosen_top1"] is None:
            misses.append(f"{where}: rescued by {c['chosen']} without a measured accuracy")
        drop = c["fp32_top1"] - c["plain_top1"] if None not in (c["fp32_top1"], c["plain_top1"]) else None
        if drop is not None and drop <= MUST_RESCUE_POINTS and not c["chosen"]:
            misses.append(f"{where}: plain INT8 is {drop:.2f} points below FP32 and no rung met the floor")
    return misses


def _ms(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def _print(cells: list[dict], floor: str) -> None:
    print(f"\nINT8 rescue ladder, floor {floor} of FP32 top-1 (p50 ms, batch 1, side by side)")
    print(f"{'checkpoint':<30} {'format':<9} {'FP32 %':>7} {'INT8 %':>7} {'rung':<16} {'top-1 %':>7} "
          f"{'p50 INT8':>8} {'p50 rung':>8} {'p50 FP32':>8}  rung/INT8 rung/FP32")
    for c in cells:
        rung = f"{c['chosen_rung']}: {c['chosen']}" if c["chosen"] else "unrescuable"
        ratio = (lambda a, b: f"{a / b:.2f}" if a and b else "-")
        print(f"{c['checkpoint']:<30} {c['format']:<9} {_ms(c['fp32_top1']):>7} {_ms(c['plain_top1']):>7} "
              f"{rung:<16} {_ms(c['chosen_top1']):>7} {_ms(c['plain_p50_ms']):>8} "
              f"{_ms(c['chosen_p50_ms']):>8} {_ms(c['fp32_p50_ms']):>8}  "
              f"{ratio(c['chosen_p50_ms'], c['plain_p50_ms']):>9} {ratio(c['chosen_p50_ms'], c['fp32_p50_ms']):>9}"
              + ("  slower_than_fp32" if c["slower_than_fp32"] else ""))
        if not c["chosen"] or c["chosen"] != "int8":
            print("    rungs: " + "; ".join(f"{n} {_ms(t)}% {_ms(p)} ms ({s})" for n, t, p, s in c["rungs"]))


def _print_converters(found: dict) -> None:
    print("\nTFLite by converter (top-1 %, p50 ms batch 1, side by side in one bench run)")
    print(f"{'checkpoint':<30} {'artifact':<22} {'top-1 %':>8} {'p50 ms':>8}  export validation")
    for checkpoint, rows in found.items():
        for name, r in rows.items():
            print(f"{checkpoint:<30} {name:<22} {_ms(r['top1']):>8} {_ms(r['p50_ms']):>8}  "
                  f"{r['export_status']}" + (f": {r['reason'][:90]}" if r["export_status"] != "ok" else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench-int8-rescue"))
    parser.add_argument("--floor", default="99%")
    parser.add_argument("--floor-samples", type=int, default=None,
                        help="validation images per rung [default: the whole split]")
    parser.add_argument("--onnx2tf", action="store_true",
                        help="also compare TFLite INT8 by onnx2tf with the default converter's")
    args = parser.parse_args()
    cells, seconds, converters = [], {}, {}
    for checkpoint in args.checkpoints:
        data, seconds[checkpoint.stem] = _export(checkpoint, args.out / checkpoint.stem, args.floor,
                                                 args.floor_samples)
        cells += _cells(checkpoint.stem, data["rescue"])
        print(f"{checkpoint.stem}: {seconds[checkpoint.stem]:.0f} s", file=sys.stderr)
    _print(cells, args.floor)
    for checkpoint in args.checkpoints if args.onnx2tf else ():
        converters[checkpoint.stem] = _converters(checkpoint, args.out / checkpoint.stem,
                                                  args.floor_samples)
    if converters:
        _print_converters(converters)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "int8_rescue.json").write_text(json.dumps(
        {"cells": cells, "seconds": seconds, "converters": converters}, indent=1))
    misses = _misses(cells)
    for m in misses:
        print(f"MISS: {m}")
    print("targets met" if not misses else f"{len(misses)} target(s) missed")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
