# `make demo` and `make test` each do all set-up on a fresh machine (README).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EB := $(VENV)/bin/edgebench
# torchvision wheels on the package registry are CUDA builds that need a matching torch:
# this pair installs and runs on CPU-only machines (see shared/reference/toolchain.md).
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
# pip's find-links notices ("... is ignored") are noise on these machines.
QUIET := grep -v 'is ignored: it is neither a file nor a directory' || true

.PHONY: setup demo test bench-export bench-fidelity clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH_PINS) -e '.[all]' 2>&1 | { $(QUIET); }
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(EB) list
	$(EB) export efficientnet_lite0 --weights imagenet --out artifacts
	$(EB) export resnet18 --weights random --out artifacts
	$(EB) bench artifacts/efficientnet_lite0/* zoo:efficientnet_lite0 --threads 2

test: setup
	$(PY) -m pytest -q

bench-export: setup
	$(PY) benchmarks/export_zoo.py

bench-fidelity: setup
	$(PY) benchmarks/fidelity.py

clean:
	rm -rf artifacts .pytest_cache
