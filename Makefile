# Two commands matter: `make demo` (set up and run the demo) and `make test` (set up and test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: install demo serve test test-sqlite test-postgres lint bench clean

# The venv is rebuilt when the packaging files change.
$(BIN)/.installed: pyproject.toml setup.cfg plugins/almacen-calendar/pyproject.toml plugins/almacen-gbm/pyproject.toml plugins/almacen-stepup/pyproject.toml plugins/almacen-apprise/pyproject.toml plugins/almacen-paylink/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' -e plugins/almacen-calendar -e plugins/almacen-gbm -e plugins/almacen-stepup -e plugins/almacen-apprise -e plugins/almacen-paylink
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/almacen demo

serve: install
	$(BIN)/almacen serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: install
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test-postgres: install
	ALMACEN_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not once"

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/ledger_import.py --url $(PG_TEST_URL) --rows 100000
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/offers.py
	$(BIN)/python bench/notifications.py
	$(BIN)/python bench/bots.py

clean:
	rm -rf $(VENV) build *.egg-info almacen.db almacen.db-*
