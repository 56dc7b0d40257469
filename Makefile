# Two commands matter: `make run` (a working demo site) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# `make test` runs against this machine's PostgreSQL and Redis; DATABASE_URL / REDIS_URL override.
# The integration tests that start a worker also run on its RabbitMQ (TEST_RABBITMQ_URL overrides).
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://localhost/test)
TEST_REDIS_URL := $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

# Debian's Chromium for the browser tests (tests/e2e): Playwright cannot download its own here.
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq
# Compiled translations are built, not committed.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

.PHONY: install install-dev run serve worker beat test lint typecheck format migrate clean \
	messages makemessages browser bench scale

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "Cosign needs Python 3.11; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

messages: $(MO_FILES)

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po | /usr/bin/msgfmt
	/usr/bin/msgfmt --check -o $@ $<

/usr/bin/msgfmt:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) gettext

# After changing user-facing strings: refresh the catalogs, translate, commit the .po files.
makemessages: install
	$(BIN)/python manage.py makemessages --all --ignore=.venv --ignore=tests --no-obsolete

browser: $(CHROMIUM_PATH)

# axe-core, the accessibility audit the browser tests inject into every page (tests/e2e/helpers.py),
# from the npm registry at the version package-lock.json pins. Update it deliberately: change the
# version in package.json, `npm install`, run the browser tests, fix what the new rules find.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json | /usr/bin/npm
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

/usr/bin/npm:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) npm

$(CHROMIUM_PATH):
	@echo "Installing Debian's chromium for the browser tests"
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) chromium

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed messages
install-dev: $(VENV)/.installed-dev messages

migrate: install
	$(BIN)/python manage.py migrate --noinput

# Without REDIS_URL there is no broker: tasks run in-process and the beat schedule runs in a
# second process beside the dev server, so the count still rises as it does in production.
# Links in printed emails point at this server unless SITE_URL says otherwise.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py seed_letters
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: start 'make worker' and 'make beat' in other terminals."; \
		exec $(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
		$(BIN)/python manage.py run_periodic_tasks & beat=$$!; \
		trap 'kill $$beat 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	fi

worker: install
	$(BIN)/celery -A config worker --loglevel=$${LOG_LEVEL:-INFO}

beat: install
	$(BIN)/celery -A config beat --loglevel=$${LOG_LEVEL:-INFO} --schedule=$(VENV)/celerybeat-schedule

# libfaketime sets one test server's clock behind another's (tests/integration/test_clock_skew.py);
# HAProxy health-checks a live server as the README configures it (tests/config/test_load_balancer.py).
# Types first: CI runs `make test`, so a type error fails it before the suite starts.
test: install-dev typecheck browser $(AXE) /usr/bin/faketime /usr/sbin/haproxy /usr/sbin/dovecot \
	/usr/sbin/rabbitmq-server
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

# Load, integrity and fault tests of the sign flow (bench/run.py; README "Benchmarks"). Needs this
# machine's PostgreSQL; starts its own Redis, gunicorn, Celery and SMTP sink, and stops them.
bench: install-dev /usr/bin/wrk $(VENV)/.installed-bench
	$(BIN)/python -m bench.run

# Scale-out proven under failure (bench/scale.py; README "Scaling out: make scale"): two app hosts in
# network namespaces, two workers, an active and a standby beat behind HAProxy, each killed under
# load. Needs root for `ip netns` (otherwise loopback addresses) and this machine's PostgreSQL.
scale: install-dev /usr/bin/wrk /usr/sbin/haproxy $(VENV)/.installed-bench
	$(BIN)/python -m bench.scale

/usr/bin/faketime:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) faketime

/usr/sbin/haproxy:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) haproxy

# Dovecot is the real IMAP server the bounce mailbox is read from (tests/integration/test_bounces.py).
/usr/sbin/dovecot:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) dovecot-imapd

# The integration tests' second broker (tests/integration/conftest.py).
/usr/sbin/rabbitmq-server:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) rabbitmq-server

/usr/bin/wrk:
	$(SUDO) apt-get update -qq
	$(APT_INSTALL) wrk

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@touch $@

lint: install-dev typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

# mypy with django-stubs over the application packages (pyproject.toml [tool.mypy]).
typecheck: install-dev
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache .mypy_cache *.egg-info test-artifacts \
		$(MO_FILES)
