# sitesim: `make demo` and `make test` each work on a fresh clone (they install first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-all bench lint figures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sitesim demo

# make test: the fast tests on every CPU (a test file stays on one worker, so that its
# module fixtures are built once); test-all runs serially, benchmarks included.
TEST_WORKERS ?= auto

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-all: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m pytest -q -m "slow or not slow"

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python -m pytest -q tests/benchmarks -m "slow or not slow" -s

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

figures: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python scripts/figures.py

clean:
	rm -rf $(VENV) data/cache .pytest_cache .mypy_cache .ruff_cache
