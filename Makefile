# Set-up, checks, tests and benchmarks. Everything runs inside a local virtual environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOURCES := neuron_explainer tests bench
MODEL ?= toy-gelu-2l

.PHONY: install serve test check bench clean

install: $(STAMP)

# torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# First run: collate the default model's activation datasets (1M bundled tokens; later runs
# reuse them), then serve the API and the UI on http://127.0.0.1:8000.
serve: install
	$(VENV)/bin/tdb prepare $(MODEL)
	$(VENV)/bin/tdb serve --model $(MODEL)

check: install
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/mypy

test: check
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q --timeout=900 tests

bench: install
	HF_HUB_OFFLINE=1 $(PY) bench/bench_models.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_attribution.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_sae.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_collation.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_server.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
