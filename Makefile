# Set-up, checks, tests and benchmarks. Python runs inside a local virtual environment; the UI
# (neuron_viewer/) is built with npm.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOURCES := neuron_explainer tests bench
MODEL ?= toy-gelu-2l
UI := neuron_viewer
UI_STAMP := $(UI)/node_modules/.installed
# Browser tests drive Debian's Chromium (playwright-core); never download a browser build.
NPM := PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install ui serve test check bench chromium clean

install: $(STAMP)

# torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(UI_STAMP): $(UI)/package.json $(UI)/package-lock.json
	cd $(UI) && $(NPM) ci --no-audit --no-fund
	touch $(UI_STAMP)

# The built UI, which tdb serve serves at /; rebuilt when its sources change.
ui: $(UI)/dist/index.html

$(UI)/dist/index.html: $(UI_STAMP) $(shell find $(UI)/src $(UI)/index.html $(UI)/vite.config.ts -type f 2>/dev/null)
	cd $(UI) && $(NPM) run build

# Serve the API and the UI on http://127.0.0.1:8000. First run: the default model's activation
# datasets (1M bundled tokens) are collated in the background meanwhile, with a progress bar;
# the debugger works at once, component pages when they are done; later runs reuse them.
serve: install ui
	$(VENV)/bin/tdb serve --model $(MODEL) --prepare

check: install $(UI_STAMP)
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/mypy
	cd $(UI) && $(NPM) run check-api && $(NPM) run lint && $(NPM) run typecheck && $(NPM) test

chromium:
	test -x /usr/bin/chromium || ($(SUDO) apt-get update && \
	    $(SUDO) apt-get install -y --no-install-recommends chromium chromium-driver)

test: check chromium
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q --timeout=900 tests
	cd $(UI) && HF_HUB_OFFLINE=1 $(NPM) run e2e

bench: install
	HF_HUB_OFFLINE=1 $(PY) bench/bench_models.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_attribution.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_sae.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_collation.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_server.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_worst_request.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(UI)/node_modules $(UI)/dist
