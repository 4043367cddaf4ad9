SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint bench install migrate demo messages

# Settings keep DEBUG off unless told (and then refuse to start without a SECRET_KEY): the
# developer's targets turn it on. An explicit DEBUG=0 in the environment still wins.
run demo migrate messages: export DEBUG ?= 1

# One venv per checkout; uv installs exactly what requirements.lock pins (~7 s).
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "TargetPilot needs Python 3.11 or newer as '$(PYTHON)'." >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip sync -q --python $(PY) requirements.lock
	touch $(STAMP)

install: $(STAMP)

# compilemessages needs GNU gettext's msgfmt; without it a pure-Python compiler does the job.
messages: install
	@if [ -z "$$(find . -path ./.venv -prune -o -name '*.po' -print -quit)" ]; then \
		true; \
	elif command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages -v 0 --ignore=.venv; \
	else \
		$(PY) scripts/compile_messages.py; \
	fi

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_reviews
	$(PY) manage.py seed_demo_alerts
	$(PY) manage.py seed_demo_integrations

# Without REDIS_URL, Celery runs tasks inside the web process (settings), so the dev server is
# web and worker at once. With REDIS_URL a real worker (with embedded beat) runs beside it and
# is stopped with the server.
run: demo messages
	@if [ -n "$${REDIS_URL:-}" ]; then \
		echo "REDIS_URL is set: starting a Celery worker with beat."; \
		$(VENV)/bin/celery -A config worker --beat -l info & worker=$$!; \
		trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
		trap 'exit 130' INT TERM; \
	fi; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# PYTHONDONTWRITEBYTECODE unset: cached bytecode makes pytest start ~3x faster. One worker
# per core (pytest-xdist); each worker gets its own test database.
test: messages
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/pytest -q -rfEs -n auto $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.ingest
