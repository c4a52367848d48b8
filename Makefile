# TPM: `make run` serves the app, `make test` runs the whole suite. Both install into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint stop bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Local runs speak plain HTTP on loopback; production keeps the secure defaults.
run: $(STAMP)  ## migrate, load the demo portfolio, serve web + worker + beat (PORT=8000)
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-0} SECURE_COOKIES=$${SECURE_COOKIES:-0} \
		$(PY) manage.py serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	sh scripts/guards.sh

test: lint  ## lint, layering, migrations check, then pytest against real PostgreSQL and Redis
	$(VENV)/bin/pytest $(PYTEST_ARGS)

stop: $(STAMP)  ## stop the embedded PostgreSQL and Redis
	$(PY) manage.py embedded stop

bench: $(STAMP)
	$(PY) bench/run.py

clean: stop
	rm -rf .data
