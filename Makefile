# MedVenue: `make run` starts the platform on this machine, `make test` checks it.
# Both work on a fresh clone with nothing but python3 and node/npm (for the browser code's bundles).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
DEMO_PASSWORD ?= medvenue-demo
# The web server: uvicorn streams request bodies (a video upload never sits in memory) and
# delivered more hall messages per second than daphne (docs/performance.md, docs/recordings.md).
# `make run`'s own Janus (live media), loopback only; see docs/media.md.
JANUS_WS_PORT ?= 8188
JANUS_ADMIN_PORT ?= 7088
JANUS_RTP_PORTS ?= 20000-20499
JANUS_STAGE_PORTS ?= 20500-20999
UVICORN_OPTIONS ?= --ws websockets-sansio --ws-per-message-deflate false --ws-max-size 16384 --timeout-graceful-shutdown 5

# The settings a production deployment checks itself against (no server is contacted).
DEPLOY_ENV := MEDVENUE_PRODUCTION=1 \
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
	ALLOWED_HOSTS=medvenue.example \
	DATABASE_URL=postgres://u@db/medvenue \
	REDIS_URL=redis://redis:6379/0

.PHONY: run test install frontend migrate seed static lint deploy-check lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies changed. The versions are the locked ones that CI tested
# (requirements-dev.txt, every file checked against its hash); the project itself on top,
# without dependencies. Update the lock with `make lock` (docs/operations.md, "Dependencies").
$(INSTALLED): pyproject.toml requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(INSTALLED)

# The browser code: frontend/src/ bundled by esbuild into static/dist/, the only JavaScript
# collectstatic publishes. The bundles are built here (gitignored, never committed); npm ci runs
# when node_modules is missing or older than the lock file.
frontend:
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi
	npm run build

migrate: $(INSTALLED)
	$(MANAGE) migrate --noinput

# Seeds only an empty database: a restart keeps what was done in the demo.
seed: migrate
	$(MANAGE) seed_demo --if-empty --password '$(DEMO_PASSWORD)'

static: $(INSTALLED) frontend
	$(MANAGE) collectstatic --noinput -v0

run: install frontend migrate seed static
	@echo
	@echo "MedVenue: http://127.0.0.1:$(PORT)/   (health: http://127.0.0.1:$(PORT)/healthz)"
	@echo "Log in with a demo login above, password: $(DEMO_PASSWORD). Ctrl-C stops everything."
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || echo "WARNING: ffmpeg/ffprobe not found: recordings cannot be uploaded or processed (apt-get install -y ffmpeg)."
	@echo
	@# Live media: our own loopback Janus when it is installed and no JANUS_WS_URLS names hosts.
	@janus=""; if [ -z "$$JANUS_WS_URLS" ]; then \
		janus="$$($(MANAGE) janus_config --ws-port $(JANUS_WS_PORT) --admin-port $(JANUS_ADMIN_PORT) --rtp-ports $(JANUS_RTP_PORTS) --stage-ports $(JANUS_STAGE_PORTS))"; fi; \
	if [ -n "$$janus" ]; then echo "Live media: Janus on ws://127.0.0.1:$(JANUS_WS_PORT)/ (admin API on 127.0.0.1:$(JANUS_ADMIN_PORT), loopback only)"; fi; \
	PORT=$(PORT) exec $(BIN)/python scripts/run.py \
		"web=$(BIN)/uvicorn conference.asgi:application --host 127.0.0.1 --port $(PORT) $(UVICORN_OPTIONS)" \
		"worker=$(BIN)/celery -A conference worker -l info -Q default,media -n worker@%h" \
		"capture=$(BIN)/celery -A conference worker -l info -Q capture,ingest -P threads -c 8 -n capture@%h" \
		"beat=$(BIN)/celery -A conference beat -l info" \
		$${janus:+"janus=$$janus"}

# ruff (lint, import order and placement, format), the import contracts of pyproject.toml
# (layers and no cycles: docs/architecture.md) and mypy (types: [tool.mypy] in pyproject.toml).
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	npm run lint

deploy-check: $(INSTALLED)
	$(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

# The unit and fault suite runs on two pytest-xdist workers (half its time is spent waiting on
# servers, workers and ffmpeg; conference/settings_test.py gives each worker its own Redis
# database and data folder). Browser tests run in a pytest process of their own, one at a time:
# Playwright's sync API keeps an event loop running for the whole session, which async tests in
# the same process cannot share, and a page's timing must not depend on another test's load.
test: install frontend
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	npm run lint
	npm test
	$(MANAGE) makemigrations --check --dry-run
	$(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING
	$(BIN)/pytest -n 2 --ignore=tests/e2e --cov --cov-report=term
	@if [ -d tests/e2e ]; then $(BIN)/pytest tests/e2e; fi

# Re-resolve the locks from pyproject.toml: requirements.txt (production) and
# requirements-dev.txt (the dev extra, which `make install` uses). Keeps every locked version
# that still fits; LOCK_OPTIONS="--upgrade" or "--upgrade-package django" moves versions on.
# Needs pip-tools, e.g. in a venv of its own: LOCK_COMPILER=/tmp/pip-tools/bin/pip-compile.
LOCK_COMPILER ?= pip-compile
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock:
	$(LOCK_COMPILER) $(LOCK_FLAGS) $(LOCK_OPTIONS) --extra dev -o requirements-dev.txt pyproject.toml
	$(LOCK_COMPILER) $(LOCK_FLAGS) $(LOCK_OPTIONS) -c requirements-dev.txt -o requirements.txt pyproject.toml

clean:
	rm -rf staticfiles var/test .pytest_cache .ruff_cache .mypy_cache .coverage
