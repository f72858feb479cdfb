# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate seed bench lint typecheck clean load faults

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --if-empty

# Embedded default: SQLite under var/, in-memory channel layer, demo data on
# first run. Set DATABASE_URL / REDIS_URL to use PostgreSQL and Redis instead.
run: export DEBUG ?= 1
run: seed
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) charter_social.asgi:application

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) var/db.sqlite3 var/test_db.sqlite3 var/static

# Load test: locust headless against Daphne on PostgreSQL + Redis (set
# DATABASE_URL and REDIS_URL). LOAD_ARGS e.g. "--users 100 --duration 300".
load: $(STAMP)
	$(BIN)/python bench/load.py $(LOAD_ARGS)

# Fault scenarios (Redis killed, PostgreSQL cut, worker killed) on PostgreSQL +
# Redis; private redis-servers and a loopback proxy, never the shared services.
faults: $(STAMP)
	$(BIN)/python faults/run.py $(FAULTS_ARGS)
