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

.PHONY: run test install lint typecheck migrations-check test-sqlite test-postgres bench messages \
	clean browser

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

# The weekly report's PDF is drawn by WeasyPrint through Pango, in Debian's CJK fonts. `make run`
# goes on without them (the PDF then says so); the tests need them.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
$(CJK_FONT):
	-$(SUDO) apt-get install -y -qq fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
		|| echo "CJK fonts not installed: the weekly report PDF will lack Chinese glyphs"

browser: $(CHROMIUM) $(CJK_FONT)

run: install $(CJK_FONT)
	$(BIN)/lodestar migrate
	$(BIN)/lodestar run --demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	PYTHONPATH=src $(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# A model changed without its migration fails here; nothing is written.
migrations-check: install
	PYTHONPATH=$(CURDIR) $(BIN)/django-admin makemigrations --check --dry-run \
		--settings tests.settings

# Each suite has a var folder of its own (file caches, locks, uploads), so the two can run at once.
test-sqlite: install browser
	LODESTAR_VAR_DIR=$(CURDIR)/var/test-sqlite $(BIN)/python -m pytest --cov=lodestar \
		--cov-report=term:skip-covered --cov-report= -p no:cacheprovider
	@$(BIN)/python -m coverage report --format=total | sed 's/^/coverage (SQLite run): /;s/$$/ %/'

test-postgres: install browser
	LODESTAR_VAR_DIR=$(CURDIR)/var/test-postgres DATABASE_URL=$(PG_URL) \
		$(BIN)/python -m pytest -p no:cacheprovider

# The checks first (they fail in seconds), then the two database suites side by side: each one's
# output is printed whole when it ends (--output-sync), both run to the end (-k), and `make test`
# fails when either fails.
test: lint typecheck migrations-check
	@echo "SQLite and PostgreSQL suites running side by side; each prints its output when it ends"
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target test-sqlite test-postgres

bench: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --scale small || exit 1; done

# English is the source language; zh-Hans is the translation (compiled .mo files are committed).
# (The var folder named: the settings would otherwise make one under src/lodestar.)
messages: install
	cd src/lodestar && LODESTAR_VAR_DIR=$(CURDIR)/var PYTHONPATH=$(CURDIR) \
		../../$(BIN)/django-admin makemessages -l zh_Hans --settings tests.settings \
		--ignore 'core/*' --ignore 'demo/*' --no-obsolete
	cd src/lodestar && LODESTAR_VAR_DIR=$(CURDIR)/var PYTHONPATH=$(CURDIR) \
		../../$(BIN)/django-admin compilemessages --settings tests.settings

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
