# Tokui. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export TOKUI_VAR_DIR ?= $(CURDIR)/var
PYTEST_WORKERS ?= 2

.PHONY: help run test venv install install-test demo serve lint format typecheck test-sqlite test-postgres messages openapi screenshots bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	@PY=$$(scripts/find-python) && echo "Using $$PY" && "$$PY" -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python ## Create the virtualenv with Python >= 3.12

install: venv ## Install Tokui into the virtualenv
	@$(BIN)/pip install -q -e . 2>&1 | grep -v "is ignored: it is neither" || true
	@$(BIN)/python -c "import tokui, django" || { echo "Installing Tokui failed"; exit 1; }

install-test: venv ## Install Tokui and what the tests need
	@$(BIN)/pip install -q -e '.[test]' 2>&1 | grep -v "is ignored: it is neither" || true
	@$(BIN)/python -c "import pytest, playwright, tokui" || { echo "Installing the test tools failed"; exit 1; }

run: install ## Set up a SQLite database with demo data and serve Tokui (PORT=8000)
	@mkdir -p "$(TOKUI_VAR_DIR)"
	@$(BIN)/tokui migrate --no-input -v 0
	@$(BIN)/tokui demo
	@echo ""
	@echo "  Tokui is starting at http://127.0.0.1:$(PORT)/"
	@echo "  Demo users (password demo-tokui): admin, head, kam, am, support"
	@echo "  Stop with Ctrl+C."
	@echo ""
	@$(BIN)/tokui serve --port $(PORT)

serve: install ## Serve without loading demo data
	@$(BIN)/tokui migrate --no-input -v 0 && $(BIN)/tokui serve --port $(PORT)

lint: install-test ## ruff, the layering contract, migrations in step with models
	@$(BIN)/ruff check tokui tests bench scripts
	@$(BIN)/ruff format --check tokui tests bench scripts
	@$(BIN)/lint-imports --no-cache
	@TOKUI_VAR_DIR=$$(mktemp -d) $(BIN)/tokui makemigrations --check --dry-run -v 0 || { echo "Models changed without a migration: run tokui makemigrations"; exit 1; }

format: install-test ## Format and auto-fix
	@$(BIN)/ruff format tokui tests bench scripts && $(BIN)/ruff check --fix tokui tests bench scripts

typecheck: install-test ## mypy on core, services, selectors and the API
	@$(BIN)/mypy

test-sqlite: install-test ## The whole suite on SQLite
	@echo "== Tests on SQLite"
	@TOKUI_VAR_DIR=$$(mktemp -d) $(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: install-test ## The whole suite on a PostgreSQL started for the run
	@echo "== Tests on PostgreSQL"
	@rc=0; TOKUI_VAR_DIR=$$(mktemp -d) scripts/with-postgres $(BIN)/pytest -n $(PYTEST_WORKERS) -q || rc=$$?; \
	if [ $$rc = 3 ]; then \
	  if [ -n "$$CI" ]; then echo "PostgreSQL is required in CI and was not found."; exit 1; fi; \
	  echo "!! PostgreSQL was NOT tested: no server binaries found (install PostgreSQL 15+ to run it)."; \
	elif [ $$rc != 0 ]; then exit $$rc; fi

test: install-test lint typecheck test-sqlite test-postgres ## Lint, types, and the suite on SQLite and PostgreSQL (browser tests included)

messages: install-test ## Update and compile the translations
	@cd tokui && ../$(BIN)/tokui makemessages -l ja --no-location --no-obsolete -i "migrations/*" && ../$(BIN)/tokui compilemessages -v 0

openapi: install ## Refresh docs/openapi-v1.json after an intended API change
	@TOKUI_VAR_DIR=$$(mktemp -d) $(BIN)/python -c "import json, os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tokui.settings'); django.setup(); from tokui.api.v1 import api; print(json.dumps(api.get_openapi_schema(path_prefix='/api/v1/'), ensure_ascii=False, indent=2, sort_keys=True))" > docs/openapi-v1.json
	@echo "docs/openapi-v1.json refreshed"

screenshots: install-test ## Screenshots of the main pages into var/screenshots
	@$(BIN)/python scripts/screenshots.py

bench: install-test ## Benchmarks
	@$(BIN)/python bench/run.py --scale $${SCALE:-100000}

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
