# Lodestar — the two commands a fresh machine needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export PIP_DISABLE_PIP_VERSION_CHECK := 1

CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test install lint typecheck test-sqlite test-postgres bench messages clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's Chromium; it is installed from the distribution, never downloaded.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium fonts-noto-cjk

browser: $(CHROMIUM)

run: install
	$(BIN)/lodestar migrate
	$(BIN)/lodestar run --demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

test-sqlite: install browser
	$(BIN)/python -m pytest --cov=lodestar --cov-report=term:skip-covered --cov-report= \
		-p no:cacheprovider
	@$(BIN)/python -m coverage report --format=total | sed 's/^/coverage (SQLite run): /;s/$$/ %/'

test-postgres: install browser
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -p no:cacheprovider

test: lint typecheck test-sqlite test-postgres

bench: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --scale small || exit 1; done

# English is the source language; zh-Hans is the translation (compiled .mo files are committed).
messages: install
	cd src/lodestar && PYTHONPATH=$(CURDIR) ../../$(BIN)/django-admin makemessages -l zh_Hans \
		--settings tests.settings --ignore 'core/*' --ignore 'demo/*' --no-obsolete
	cd src/lodestar && PYTHONPATH=$(CURDIR) ../../$(BIN)/django-admin compilemessages \
		--settings tests.settings

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
