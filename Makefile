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

# Fashion-MNIST (INT8 calibration and held-out validation) comes from Debian's package.
FASHION_MNIST := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: setup data system demo test bench-export bench-fidelity bench-int8 bench-accuracy bench-eval bench-sweep clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH_PINS) -e '.[all]' 2>&1 | { $(QUIET); }
	touch $@

setup: $(VENV)/.installed data system

# The emulated Raspberry Pi (tests, and users without a board): qemu-user, debootstrap and an
# SSH server; Chromium opens the HTML report in its test. Root only; elsewhere those tests say
# why they cannot run.
SYSTEM_TOOLS := /usr/bin/qemu-aarch64-static /usr/sbin/debootstrap /usr/sbin/sshd /usr/sbin/update-binfmts /usr/bin/chromium
SYSTEM_PACKAGES := qemu-user-static binfmt-support debootstrap openssh-server openssh-client chromium
system:
	@[ "$$(id -u)" -ne 0 ] || for f in $(SYSTEM_TOOLS); do test -e $$f || exit 1; done || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    $(SYSTEM_PACKAGES) >/dev/null; } || \
	  echo "note: apt-get install $(SYSTEM_PACKAGES) for the emulated board and the report test"

data:
	@test -f $(FASHION_MNIST) || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || \
	  echo "note: install Fashion-MNIST (apt-get install dataset-fashion-mnist) for INT8 calibration"

# The main job on real labelled data: train in-domain, export FP32 + INT8, score every
# artifact on the 10,000 test images, time them. The checkpoint is trained once.
CKPT := checkpoints/resnet18-fashion-mnist.pt
DEMO_STORE := results/demo.db

demo: setup
	$(EB) list
	test -f $(CKPT) || $(EB) train resnet18 --dataset fashion-mnist --epochs 2 --out $(CKPT)
	$(EB) export resnet18 --weights $(CKPT) --int8 --out artifacts
	$(EB) eval artifacts/resnet18/* zoo:resnet18 --weights $(CKPT) --store $(DEMO_STORE)
	$(EB) bench artifacts/resnet18/* zoo:resnet18 --weights $(CKPT) --threads 2 --store $(DEMO_STORE)
	$(EB) report --store $(DEMO_STORE) --html report.html

test: setup
	$(PY) -m pytest -q

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
