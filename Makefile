PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-fast check demo lint bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# the whole suite (what CI runs): layer contract, type check, every test group
test: check
	$(BIN)/python -m pytest -q

# unit tests only (no peers, no real data, no notebooks): a quick loop while editing
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "unit"

check: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/gravity demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

bench: $(STAMP)
	$(BIN)/python benchmarks/ppml_hdfe.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
