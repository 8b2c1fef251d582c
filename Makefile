# The two commands a newcomer needs: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test lint venv test-venv docs

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet ".[test]"
	touch $@

venv: $(VENV)/.base
test-venv: $(VENV)/.test

run: $(VENV)/.base
	mkdir -p var/static
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(PY) manage.py demo_setup
	DEBUG=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(PY) -m uvicorn project.asgi:application \
		--host $(HOST) --port $(PORT) --lifespan on --ws websockets-sansio

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Pass 1: SQLite + in-memory channel layer (+ Redis and the browser where present).
# Pass 2: the tests marked `postgres`, on PostgreSQL. Both are required when CI=true.
test: $(VENV)/.test lint
	$(PY) manage.py check --settings=project.test_settings
	$(PY) -m pytest -m "not postgres" $(PYTEST_ARGS)
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(PY) -m pytest -m postgres $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL is required when CI=true" >&2; exit 1; \
	else echo "SKIPPED: PostgreSQL tests (start it: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start)"; fi

docs: $(VENV)/.base
	$(PY) -m animate.runware.docs > docs/parameters.md
