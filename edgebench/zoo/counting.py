"""Count parameters and multiply-accumulates from the model itself.

Runs on the meta device: no weights are allocated and no arithmetic is done, so the
whole zoo counts in seconds. ``python -m edgebench.zoo.counting --write`` regenerates
``counts.json``, which `edgebench list` reads so that it needs no torch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._registry import Counts, get, list_models
from .spec import ModelEntry


def count(entry: ModelEntry, resolution: int | None = None) -> Counts:
    """Params and MACs (convolutions and matmuls) of one forward pass at batch 1."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    resolution = resolution or entry.resolution
    with torch.device("meta"):
        model = entry.build(entry.num_classes, resolution).eval()
    params = sum(p.numel() for p in model.parameters())
    counter = FlopCounterMode(display=False)
    x = torch.empty(1, 3, resolution, resolution, device="meta")
    with counter, torch.no_grad():
        model(x)
    # FlopCounterMode counts a multiply-add as two FLOPs
    return Counts(params=int(params), macs=int(counter.get_total_flops() // 2), resolution=resolution)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite counts.json")
    args = parser.parse_args(argv)
    table = {}
    for name in list_models():
        c = count(get(name))
        table[name] = {"params": c.params, "macs": c.macs, "resolution": c.resolution}
        print(f"{name:22s} {c.params_m:8.2f} M params {c.gmacs:8.3f} GMACs @ {c.resolution}")
    if args.write:
        path = Path(__file__).with_name("counts.json")
        path.write_text(json.dumps(table, indent=1) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
