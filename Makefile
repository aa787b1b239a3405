# `make demo` and `make test` each do all set-up on a fresh machine (README).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EB := $(VENV)/bin/edgebench
# torchvision wheels on the package registry are CUDA builds that need a matching torch:
# this pair installs and runs on CPU-only machines.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
# pip's find-links notices ("... is ignored") are noise on these machines.
QUIET := grep -v 'is ignored: it is neither a file nor a directory' || true

.PHONY: setup system test-setup demo test test-fast bench-export bench-fidelity bench-int8 bench-accuracy bench-eval bench-sweep clean

$(VENV)/.installed: setup.cfg pyproject.toml
	@echo "set-up: installing $(TORCH_PINS) and edgebench[all] into $(VENV) (the runtimes, converters and tools; minutes on a first run)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH_PINS) -e '.[all]' 2>&1 | { $(QUIET); }
	touch $@

# The Debian packages (Fashion-MNIST, the emulated board's tools, an SSH server, Chromium): their
# table is tools/system-packages.txt. The script says what it installs, or what it skips and why
# (without root); it never stops the set-up.
system:
	@bash tools/setup-system

setup: system $(VENV)/.installed

# The main job on real labelled data: train in-domain (a third of the training images, so
# the whole job fits in minutes), export FP32 + INT8, score every artifact on the 10,000
# test images, time them. The checkpoint is trained once.
CKPT := checkpoints/resnet18-fashion-mnist.pt
DEMO_STORE := results/demo.db

demo: setup
	$(EB) list
	test -f $(CKPT) || $(EB) train resnet18 --dataset fashion-mnist:train:20000 --epochs 2 --out $(CKPT)
	$(EB) export resnet18 --weights $(CKPT) --int8 --out artifacts
	$(EB) eval artifacts/resnet18/* zoo:resnet18 --weights $(CKPT) --store $(DEMO_STORE)
	$(EB) bench artifacts/resnet18/* zoo:resnet18 --weights $(CKPT) --threads 2 --store $(DEMO_STORE)
	$(EB) report --store $(DEMO_STORE) --html report.html

# What the tests share and would otherwise build inside the timed run: the emulated board, the
# pinned-runtime environments, the onnx2tf environment (each built once, then reused).
test-setup: setup
	@$(PY) -m tests.prepare

# Two test processes (pytest-xdist), one test file each at a time: module fixtures are made
# once, and the session's trained checkpoint and export sets are shared between them
# (tests/conftest.py). TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test: test-setup
	$(PYTEST) --durations=25

# The edit loop: everything but the slow tiers (slow, emulated, network, gpu).
test-fast: setup
	$(PYTEST) -m "not slow and not emulated and not network and not gpu"

bench-export: setup
	$(PY) benchmarks/export_zoo.py

bench-fidelity: setup
	$(PY) benchmarks/fidelity.py

bench-int8: setup
	$(PY) benchmarks/export_int8.py

bench-accuracy: setup
	$(PY) benchmarks/accuracy.py --reuse

bench-eval: setup bench-accuracy
	$(PY) benchmarks/eval_overhead.py bench-accuracy/artifacts/resnet18/onnx-fp32

bench-sweep: setup
	$(PY) benchmarks/sweep.py

clean:
	rm -rf artifacts checkpoints results report.html bench-sweep .pytest_cache
