# Tongban: two commands on a fresh machine.
#   make run   set everything up and serve the demo region at http://127.0.0.1:8000
#   make test  set everything up and run every check
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE := tongban.settings

.PHONY: run test system-deps setup venv assets db demo serve lint bench openapi-snapshot clean

# One Python process migrates, collects static files, seeds the demo region and
# prints its accounts (scripts/prepare.py), so that a second run is up quickly.
run: venv assets
	@$(BIN)/python scripts/prepare.py --demo
	@echo "Serving the demo region at http://$${TONGBAN_BIND:-127.0.0.1:8000} (Ctrl-C stops)."
	@$(BIN)/tongban serve

# System packages first: with CI=true the missing ones (npm among them) are installed.
test: system-deps venv assets
	@bash scripts/test-suite.sh

system-deps:
	@bash scripts/system-deps.sh

setup: venv assets db

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	@VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet -r requirements.lock
	@VIRTUAL_ENV=$(VENV) $(BIN)/uv pip install --quiet --no-deps -e .
	@touch $@

assets: src/tongban/static/vendor/.built

src/tongban/static/vendor/.built: package.json package-lock.json $(VENV)/.installed $(wildcard src/tongban/locale/*/LC_MESSAGES/*.po)
	@npm ci --no-audit --no-fund --silent
	@mkdir -p src/tongban/static/vendor
	@cp node_modules/htmx.org/dist/htmx.min.js src/tongban/static/vendor/htmx.min.js
	@$(BIN)/tongban compile-translations
	@touch $@

db: venv assets
	@$(BIN)/python scripts/prepare.py

demo: db
	@$(BIN)/tongban seed-demo

serve:
	@$(BIN)/tongban serve

lint: venv
	@$(BIN)/ruff check src tests bench scripts
	@$(BIN)/lint-imports
	@$(BIN)/mypy

# Defaults finish in minutes; the issue's scale (about 45 minutes on two cores):
#   make bench BENCH_ARGS="--persons-pg 10000000 --persons-sqlite 1000000"
# PostgreSQL comes from the same Debian packages as the test suite's (system-deps).
bench: system-deps setup
	@$(BIN)/python -m bench $(BENCH_ARGS)

openapi-snapshot: venv
	@$(BIN)/python -m tests.api.snapshot api > tests/api/openapi.snapshot.json.tmp
	@mv tests/api/openapi.snapshot.json.tmp tests/api/openapi.snapshot.json
	@$(BIN)/python -m tests.api.snapshot exchange > tests/api/exchange.snapshot.json.tmp
	@mv tests/api/exchange.snapshot.json.tmp tests/api/exchange.snapshot.json
	@echo "Updated tests/api/*.snapshot.json: review the diff and commit it."

clean:
	rm -rf $(VENV) node_modules src/tongban/static/vendor var/static
