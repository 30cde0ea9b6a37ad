# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced
UV_VERSION := 0.13.9
# The test suite's services; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/community
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test static lint typecheck checks pytest e2e services browser translations messages bench bench-weekly bench-digest bench-http clean

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --quiet
	@touch $@

install: $(STAMP) translations

translations: $(STAMP)
	@DJANGO_DEBUG=true $(BIN)/python manage.py compiletranslations

# Embedded default unless DATABASE_URL / REDIS_URL are set: SQLite, tasks in-process,
# e-mail printed to the console. Another port: make run PORT=8001.
PORT ?= 8000
run: export DJANGO_DEBUG ?= true
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo
	@echo "Serving $$SITE_URL/ (stop with Ctrl-C)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: export DATABASE_URL = $(TEST_DATABASE_URL)
test: export REDIS_URL = $(TEST_REDIS_URL)
test: install services browser static pytest e2e

services: $(STAMP)
	$(BIN)/python scripts/ensure_services.py

# Browser tests drive the system Chromium, with a CJK font so the zh-Hans screenshots show
# Chinese, not boxes; install what is missing (Debian).
browser:
	@{ command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || { command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null; } || { echo "Install Chromium and a CJK font (Debian, as root: apt-get install chromium fonts-noto-cjk)"; exit 1; }

# The static checks side by side (each is one process; their output is kept apart).
static: $(STAMP)
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck checks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	DJANGO_DEBUG=true $(BIN)/mypy

checks: $(STAMP)
	DJANGO_DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=community.example.com \
	  DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING
	DJANGO_DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

# The suite without the browser, then the browser tests in a step of their own; each prints
# its 15 slowest tests at the end. The first step makes the test databases afresh and keeps
# them; the browser step reuses them (Django still applies any migration they lack) and
# collects only tests/e2e, where every browser test lives (tests/community/test_markers.py).
pytest: $(STAMP)
	$(BIN)/pytest -n auto --maxprocesses 4 -m "not e2e" --durations=15 --create-db --reuse-db

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e -n auto --maxprocesses 4 -m e2e --durations=15 --reuse-db

# Developer tools: refresh the zh-Hans catalogue after changing strings; run the benchmarks.
messages: $(STAMP)
	DJANGO_DEBUG=true $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --no-location --ignore=.venv --ignore=bench --ignore=tests

bench: export DATABASE_URL = $(TEST_DATABASE_URL)
bench: install services
	$(BIN)/python bench/directory.py

# The weekly close of 1,000 communities through two Celery workers (Redis database 8); a
# smaller run: make bench-weekly BENCH_ARGS="--communities 100".
bench-weekly: export DATABASE_URL = $(TEST_DATABASE_URL)
bench-weekly: install services
	$(BIN)/python bench/weekly.py $(BENCH_ARGS)

# The weekly digest e-mailed to 100,000 members through one worker of two processes and a local
# SMTP sink (Redis database 13); a smaller run: make bench-digest BENCH_ARGS="--members 5000".
bench-digest: export DATABASE_URL = $(TEST_DATABASE_URL)
bench-digest: install services
	$(BIN)/python bench/digest.py $(BENCH_ARGS)

# The whole stack under load: gunicorn (as docker-compose runs it) on PostgreSQL and Redis
# (database 10, flushed), wrk against every read page and API endpoint signed in as a member,
# and a minimal Django app as the framework's floor in the same run; prints req/s, p50, p99 and
# the share of the floor. Installs Debian's wrk where it is missing. A shorter run:
# make bench-http BENCH_ARGS="--duration 3".
bench-http: export DATABASE_URL = $(TEST_DATABASE_URL)
bench-http: install services
	$(BIN)/python bench/http_stack.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .mypy_cache .ruff_cache
