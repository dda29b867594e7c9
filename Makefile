# The project's commands. `make help` lists them; `make run` is the first one to try.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Written after a successful install; pip runs again only when a requirements file is newer.
STAMP := $(VENV)/.requirements-installed
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)

# Extra arguments, e.g. `make run ARGS="--force"` or `make bench ARGS="--cafes 100 --days 60"`.
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv run up down test lint format bench bench-small clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install the requirements when they changed

run: venv ## Embedded PostgreSQL, synthetic tenant, analytics_daily for the last 30 days, summary
	$(PY) -m aans_analytics.demo run $(ARGS)

up: venv ## Airflow UI (airflow standalone) on http://localhost:8080, same database; Ctrl-C stops
	$(PY) -m aans_analytics.demo up

down: venv ## Stop the embedded PostgreSQL
	$(PY) -m aans_analytics.demo down

test: venv ## Run the whole test suite
	$(PY) -m pytest

lint: venv ## ruff, ruff format --check, sqlfluff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint sql/
	$(VENV)/bin/mypy

format: venv ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv ## Daily-run benchmark at the DESIGN scale (500 cafes); ARGS="--cafes N ..." to change
	$(PY) bench/daily_run.py $(ARGS)

bench-small: venv ## A quick benchmark run (50 cafes, short history) to check it works
	$(PY) bench/daily_run.py --cafes 50 --days 30 --long-days 60 --backfill-days 5 $(ARGS)

clean: ## Stop the database and delete .local (database, Airflow home, logs, bench); keeps .venv
	@if [ -x $(PY) ]; then $(PY) -m aans_analytics.demo down; fi
	rm -rf .local
