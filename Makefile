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

.PHONY: demo test lint bench install install-test train-verifier export-embedder clean

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
	$(PY) -m ruff check bot cogs core tests benchmarks training
	$(PY) -m mypy core

test: lint
	$(PY) -m pytest -q

bench: install-test
	$(PIP) install --quiet -e ".[bench]"
	$(PY) benchmarks/engine_bench.py

# Train the cache's hit verifier from the packaged MiniLM weights, export it to int8 ONNX and choose its
# thresholds (about 110 min on 2 cores; see docs/verifier_model_card.md).  Writes models/hit-verifier/.
train-verifier: install-test
	$(PIP) install --quiet -e ".[train]"
	$(PY) training/train_verifier.py --layers 6 --lr 5e-5 --seed 21 --out training/output/verifier
	$(PY) training/train_verifier.py --init training/output/verifier --seed 22 --lr 3e-5 --qqp-share 0.5 --out training/output/verifier-e2
	$(PY) training/train_verifier.py --init training/output/verifier-e2 --seed 23 --lr 2e-5 --per-question 0.03 --templates 400 --word-swaps 600 --out training/output/verifier-e3
	$(PY) training/export_verifier.py --checkpoint training/output/verifier-e3 --out models/hit-verifier
	$(PY) training/calibrate_verifier.py --model models/hit-verifier

# Export the packaged all-MiniLM-L6-v2 to the int8 ONNX embedder in models/minilm-l6-int8/ (a minute).
export-embedder: install-test
	$(PIP) install --quiet -e ".[train]"
	$(PY) training/export_embedder.py --out models/minilm-l6-int8

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
