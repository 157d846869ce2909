# keras-disent: `make demo` and `make test` each create .venv and install into it.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# CPU pins measured on the 2-core dev/CI machines (torch 2.13.0 is a CPU build on local disk;
# an unpinned torch pulls a multi-GB CUDA build). pyproject's extras keep looser ranges.
PINS := keras==3.15.1 tensorflow-cpu==2.21.0 "jax[cpu]==0.10.2" torch==2.13.0 \
        tensorflow-datasets==4.9.10 importlib_resources h5py ai-edge-litert pytest psutil \
        ray==2.60.0
BACKENDS := tensorflow jax torch
DEMO_DIR ?= runs/demo

.PHONY: install demo test test-large bench clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(PINS) -e ".[dev]" 2>&1 | { grep -v 'is ignored: it is neither' || true; }
	touch $(STAMP)

demo: $(STAMP)
	KERAS_BACKEND=tensorflow $(VENV)/bin/keras-disent demo --out $(DEMO_DIR)

# Runs the whole suite once per backend; fails if any backend fails (pytest's exit 5,
# "no tests collected", is a failure too).
test: $(STAMP)
	@failed=""; for b in $(BACKENDS); do \
	  echo "=== KERAS_BACKEND=$$b"; \
	  KERAS_BACKEND=$$b $(PY) -m pytest -q -x --durations=5 || failed="$$failed $$b"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED backends:$$failed"; exit 1; fi; echo "all backends passed"

test-large: $(STAMP)
	@for b in $(BACKENDS); do KERAS_BACKEND=$$b $(PY) -m pytest -q -m large || exit 1; done

bench: $(STAMP)
	for b in $(BACKENDS); do KERAS_BACKEND=$$b $(PY) bench/train_speed.py; done
	$(PY) bench/render_speed.py

clean:
	rm -rf $(VENV) build *.egg-info runs
