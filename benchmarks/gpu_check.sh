#!/usr/bin/env bash
# One prepared GPU check: run from the repository root on a machine with an NVIDIA GPU and
# torch + torchvision installed (no edgebench install needed). Prints ResNet-50 and
# EfficientNet-B0 FP16 batch-1 p50 (eager, eager + CUDA graph, compiled + CUDA graph), the
# compiled cell's first and second load, batch-64 throughput, numerics and a kernel profile.
# Arguments go to gpu_check.py (--models M[,M], --json FILE, --no-profile, --short).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
PY="${PYTHON:-python3}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
"$PY" benchmarks/gpu_check.py "$@"
