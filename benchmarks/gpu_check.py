"""GPU figures through the torch backend: FP16 batch-1 p50 (CUDA graphs and eager) and
batch-64 throughput for ResNet-50 and EfficientNet-B0. Each cell runs in its own agent
process, exactly as ``edgebench bench`` runs it.

Target (issue): with CUDA graphs, batch-1 p50 <= 1.5 ms on an H100 or H200.
Exit status 1 if a target is missed or a cell fails; 0 with a note when there is no GPU.
"""

from __future__ import annotations

import json
import sys

from edgebench.bench import BenchRequest, run
from edgebench.harness import HarnessSettings
from edgebench.runtimes import RuntimeSettings
from edgebench.targets.local import LocalTarget

MODELS = ("resnet50", "efficientnet_b0")
TARGET_B1_P50_MS = 1.5
CELLS = (  # (label, batch, cuda graphs)
    ("b1 graphs", 1, True),
    ("b1 eager", 1, False),
    ("b64 graphs", 64, True),
)


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check here")
        return 0
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    print(f"{'model':16s} {'cell':11s} {'p50 ms':>8s} {'p90 ms':>8s} {'p99 ms':>8s} {'img/s':>9s}  status",
          flush=True)
    bad = 0
    results = []
    for model in MODELS:
        for label, batch, graphs in CELLS:
            request = BenchRequest(
                artifacts=(f"zoo:{model}",), runtime="torch",
                settings=RuntimeSettings(device="gpu", batch=batch, precision="fp16",
                                         channels_last=True, cuda_graphs=graphs),
                harness=HarnessSettings(warmup_runs=20, min_runs=200, min_seconds=2.0),
                timeout_s=300)
            (row,) = run(request, LocalTarget())
            results.append(row.to_dict())
            lat = row.latency
            status = row.status.value
            if status == "ok" and batch == 1 and graphs and lat.p50_ms > TARGET_B1_P50_MS:
                status = f"MISSED (> {TARGET_B1_P50_MS} ms)"
            bad += status != "ok"
            if row.status != "ok":
                print(f"{model:16s} {label:11s} {row.status}: {row.reason}", flush=True)
                continue
            print(f"{model:16s} {label:11s} {lat.p50_ms:8.3f} {lat.p90_ms:8.3f} {lat.p99_ms:8.3f} "
                  f"{row.throughput_ips:9.0f}  {status}", flush=True)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            json.dump(results, f, indent=1)
    print(f"{bad} cells not ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
