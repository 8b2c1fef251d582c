# The two commands a newcomer needs: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
# Both passes run on two pytest-xdist workers; tests sharing a server or heavy ones (the browser, the
# process topology) are grouped onto one worker with xdist_group.
XDIST ?= -n 2 --dist loadgroup
# `make run-scaled`: the scaled topology on this machine's PostgreSQL and Redis (README, "Scale-out").
SCALED_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/animate_scaled
SCALED_REDIS_URL ?= redis://127.0.0.1:6379/0
SCALED_REDIS_PREFIX ?= animate-scaled

.PHONY: run run-scaled test lint venv test-venv docs

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

# Two web processes, two workers, the standalone sandbox and the S3-compatible server; Ctrl-C stops them.
# The local S3-compatible server (moto) comes with the test extras.
run-scaled: $(VENV)/.test
	$(PY) -m project.topology --database-url $(SCALED_DATABASE_URL) --redis-url $(SCALED_REDIS_URL) \
		--redis-prefix $(SCALED_REDIS_PREFIX) --port $(PORT)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Pass 1: the whole suite on SQLite + the in-memory channel layer (+ Redis and the browser where present).
# Pass 2: the whole suite again on PostgreSQL, with the `postgres` tests (the process topology among them).
# Both are required when CI=true.
test: $(VENV)/.test lint
	$(PY) manage.py check --settings=project.test_settings
	$(PY) -m pytest -m "not postgres" $(XDIST) $(PYTEST_ARGS)
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		echo "DATABASE_URL=$(PG_URL) pytest (the whole suite on PostgreSQL)"; \
		DATABASE_URL=$(PG_URL) $(PY) -m pytest $(XDIST) $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL is required when CI=true" >&2; exit 1; \
	else echo "SKIPPED: the PostgreSQL pass (start it: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start)"; fi

docs: $(VENV)/.base
	$(PY) -m animate.runware.docs > docs/parameters.md
