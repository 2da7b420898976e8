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

.PHONY: install system-deps demo lint format test test-fast lock clean

install: $(STAMP)

$(STAMP): requirements.lock setup.py
	@test -n "$(PYTHON)" || { echo "Python 3.10 is required (TFX 1.16 supports Python < 3.11); see BUILD.md"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" setuptools wheel
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

# The whole TFX pipeline on the synthetic data: prepare, validate, train, evaluate, gate, push.
demo: $(STAMP)
	$(BIN)/munit-tf pipeline run --home runs/pipeline

# Headless Chromium opens the evaluation report in a test (Debian's package; apt needs root).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the report test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# ruff (settings in pyproject.toml): the linter, and the formatter in check mode.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint system-deps
	$(BIN)/python -m pytest tests -n $(TEST_WORKERS) $(TEST_ARGS)

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

clean:
	rm -rf $(VENV) build *.egg-info runs
