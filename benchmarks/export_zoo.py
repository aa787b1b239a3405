"""Export every zoo entry to ONNX FP32 at its native resolution; print a row each.

Random weights (offline: no ImageNet weights for most entries), except where real
weights ship in a package (efficientnet_lite0). Run: ``python benchmarks/export_zoo.py``.
Exit status 1 if any row is not ``ok``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from edgebench import zoo
from edgebench.export import ExportRequest, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pattern", nargs="?", default=None, help="glob over model names")
    parser.add_argument("--out", type=Path, default=None, help="artifact root (default: a temp dir)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="edgebench-zoo-"))
    print(f"{'model':20s} {'res':>4s} {'weights':>8s} {'export s':>9s} {'total s':>8s} "
          f"{'size MB':>8s} {'max abs diff':>13s} {'max rel diff':>13s} {'top-1 agr':>9s}  status",
          flush=True)
    bad = 0
    for name in zoo.list_models(args.pattern):
        entry = zoo.get(name)
        weights = "imagenet" if entry.imagenet and entry.imagenet.locate() else "random"
        started = time.perf_counter()
        try:
            (result,) = run(ExportRequest(model=name, formats=("onnx",), weights=weights, out_dir=out,
                                         validate_samples=32, force=True))
        except Exception as e:  # a failing row never stops the table
            print(f"{name:20s} error: {e}", flush=True)
            bad += 1
            continue
        total = time.perf_counter() - started
        m = result.artifact.manifest if result.artifact else None
        if m is None:
            print(f"{name:20s} {result.status}: {result.reason}", flush=True)
            bad += 1
            continue
        v = m["validation"]
        print(f"{name:20s} {entry.resolution:4d} {weights:>8s} {m['export_seconds']:9.1f} {total:8.1f} "
              f"{m['size_bytes'] / 1e6:8.1f} {v['max_abs_diff']:13.2e} {v['max_rel_diff']:13.2e} "
              f"{v['top1_agreement']:9.0%}  {result.status}", flush=True)
        bad += result.status != "ok"
    print(f"artifacts in {out}; {bad} not ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
