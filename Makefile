# Two commands do everything on a fresh machine:
#   make demo   sets up .venv and runs /autointel offline on a sample article (no token, no API key)
#   make test   sets up .venv with the test tools and runs ruff, mypy and the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU build of PyTorch must be installed before sentence-transformers, or pip pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0
SAMPLE ?= samples/renewables_article.md

.PHONY: demo test lint bench install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: pyproject.toml | $(PY)
	$(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.runtime-installed
	$(PIP) install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.runtime-installed
install-test: $(VENV)/.test-installed

demo: install
	LOG_LEVEL=WARNING $(PY) -m bot console --run "/autointel $(SAMPLE) depth:standard"

lint: install-test
	$(PY) -m ruff check bot cogs core tests benchmarks
	$(PY) -m mypy core

test: lint
	$(PY) -m pytest -q

bench: install-test
	$(PIP) install --quiet -e ".[bench]"
	$(PY) benchmarks/engine_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
