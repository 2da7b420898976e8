# `make demo` and `make test` work on a fresh machine: they create .venv with Python 3.10 and
# install the pinned lock (requirements.lock) plus this package, then do their job.

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Python 3.10 (TFX 1.16 supports < 3.11): on PATH, or under pyenv.
PYTHON  ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
             $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
TEST_ARGS ?=
# Two pytest workers (pytest-xdist): much of a test is single-threaded tracing, Beam and process
# start-up, so two at once fill the two cores (21 -> 13 minutes).
TEST_WORKERS ?= 2

# The portable exports' converters and runtimes (tf2onnx, onnx, onnxruntime, ai-edge-litert) need
# a newer protobuf than TFX 1.16 pins: an environment of their own, TensorFlow and munit-tf, no TFX.
EXPORT_VENV  := .venv-export
EXPORT_BIN   := $(EXPORT_VENV)/bin
EXPORT_STAMP := $(EXPORT_VENV)/.installed

WEB_DIR      := munit_tf/portable/web
WEB_STAMP    := $(WEB_DIR)/node_modules/.installed

.PHONY: install export-env web-deps system-deps demo lint format test test-fast lock lock-export clean

install: $(STAMP)

$(STAMP): requirements.lock setup.py
	@test -n "$(PYTHON)" || { echo "Python 3.10 is required (TFX 1.16 supports Python < 3.11); see BUILD.md"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" setuptools wheel
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

export-env: $(EXPORT_STAMP)

$(EXPORT_STAMP): requirements-export.lock setup.py
	@test -n "$(PYTHON)" || { echo "Python 3.10 is required; see BUILD.md"; exit 1; }
	@test -x $(EXPORT_BIN)/python || $(PYTHON) -m venv $(EXPORT_VENV)
	$(EXPORT_BIN)/python -m pip install --quiet --upgrade "pip>=24" setuptools wheel
	$(EXPORT_BIN)/python -m pip install --quiet -r requirements-export.lock
	$(EXPORT_BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# LiteRT.js (copied into each `export --format web`) and playwright-core (the page's test), from
# the npm lock in munit_tf/portable/web.
web-deps: $(WEB_STAMP)

$(WEB_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The whole TFX pipeline on the synthetic data: prepare, validate, train, evaluate, gate, push.
demo: $(STAMP)
	$(BIN)/munit-tf pipeline run --home runs/pipeline

# Headless Chromium opens the evaluation report in a test (Debian's package; apt needs root).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the report and web page tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# ruff (settings in pyproject.toml): the linter, and the formatter in check mode.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# tests/portable run in the export environment (the main one cannot import their runtimes).
test: lint system-deps export-env web-deps
	$(BIN)/python -m pytest tests -n $(TEST_WORKERS) $(TEST_ARGS)
	$(EXPORT_BIN)/python -m pytest tests/portable $(TEST_ARGS)

# The unit tests only: everything but tests/e2e (the TFX pipeline, notebooks, several processes,
# SavedModels in fresh processes, a browser), marked `slow` there.
test-fast: lint
	$(BIN)/python -m pytest tests -m "not slow" -n $(TEST_WORKERS) $(TEST_ARGS)

# Re-resolve the ranges in setup.py (plus the test tools) and rewrite the lock; see BUILD.md.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python -m pip install --quiet --upgrade pip
	build/lock-venv/bin/python -m pip install --quiet -e ".[test]"
	build/lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^munit-tf' > requirements.lock
	rm -rf build/lock-venv

# The export environment's lock: TensorFlow as in requirements.lock, the converters and runtimes.
lock-export:
	rm -rf build/lock-export && $(PYTHON) -m venv build/lock-export
	build/lock-export/bin/python -m pip install --quiet --upgrade pip
	build/lock-export/bin/python -m pip install --quiet $$(grep -E '^(tensorflow|keras|numpy)==' requirements.lock) \
	  tf2onnx "onnx<1.18" onnxruntime ai-edge-litert pillow pyyaml scipy pytest
	{ echo "# The export environment (make export-env): TensorFlow as in requirements.lock, the LiteRT and"; \
	  echo "# ONNX converters and runtimes, whose protobuf 4 TFX 1.16 refuses. Rewritten by make lock-export."; \
	  build/lock-export/bin/python -m pip freeze; } > requirements-export.lock
	rm -rf build/lock-export

clean:
	rm -rf $(VENV) $(EXPORT_VENV) build *.egg-info runs
