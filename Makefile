# servicelens — developer entry points. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SL := $(VENV)/bin/servicelens
STAMP := $(VENV)/.installed
WEB_STAMP := servicelens/static/app/index.html
WEB_SRC := $(shell find web/src web/index.html web/package.json web/vite.config.ts -type f 2>/dev/null)
PORT ?= 8000
DEMO_TICKETS ?= 20000
CHROMIUM := /usr/bin/chromium

.PHONY: demo test test-py test-pg test-web lint web bench clean install browser openapi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(WEB_STAMP): web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build --silent

web: $(WEB_STAMP)

openapi: $(STAMP)
	@mkdir -p servicelens/static
	$(SL) openapi --out servicelens/static/openapi.json

# Debian's Chromium and CJK fonts for the browser tests (never a downloaded browser build).
browser:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
		echo "installing chromium and fonts-noto-cjk from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

demo: $(STAMP) web
	@mkdir -p data
	$(SL) init
	$(SL) demo --tickets $(DEMO_TICKETS)
	@echo ""
	@echo "  servicelens is starting: http://127.0.0.1:$(PORT)/app/"
	@echo "  log in as admin / admin12345 (or supervisor1 / super12345, agent1 / agent12345)"
	@echo ""
	$(SL) serve --port $(PORT)

test: $(STAMP) web browser test-web test-py test-pg

test-web: web/node_modules/.package-lock.json
	cd web && npm test --silent

test-py: $(STAMP)
	SERVICELENS_TEST_DB=sqlite $(PY) -m pytest -n 2 --dist loadfile

# The same suite again on PostgreSQL when SERVICELENS_TEST_PG_URL is set (browser tests run once, above).
test-pg: $(STAMP)
	@if [ -n "$$SERVICELENS_TEST_PG_URL" ]; then \
		SERVICELENS_TEST_DB=pg $(PY) -m pytest -n 2 --dist loadfile -m 'not e2e'; \
	else echo "SERVICELENS_TEST_PG_URL not set: PostgreSQL run skipped"; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check servicelens tests bench
	$(VENV)/bin/ruff format --check servicelens tests bench
	$(VENV)/bin/mypy servicelens bench

bench: $(STAMP)
	$(PY) bench/bench_calendar.py
	$(PY) bench/bench_import.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_sla_scan.py
	$(PY) bench/bench_notify.py

clean:
	rm -rf $(VENV) web/node_modules servicelens/static/app
