# Every target bootstraps what it needs: the virtualenv, the npm bundle, Debian's chromium for tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat setup.cfg | md5sum | cut -c1-8)
ASSETS := web/static/dist/.built
export MOTCUA_INSTANCE_PATH ?= $(CURDIR)/instance
# A form-js dependency (@carbon via @ibm/telemetry-js) reports installs from CI unless told not to.
export IBM_TELEMETRY_DISABLED := true

.PHONY: run test test-fast bench lint assets install chromium clean

run: install assets
	$(VENV)/bin/motcua init --demo
	$(VENV)/bin/motcua serve --host 127.0.0.1 --port 5000

# Three workers on two cores: most tests wait on PostgreSQL, browsers and servers, not the CPU. One test at a time
# per worker (--maxschedchunk 1): the slowest start first (tests/conftest.py) and no worker holds a queue of them.
test: install assets chromium
	$(PY) -m pytest -n 3 --maxschedchunk 1

test-fast: install
	$(PY) -m pytest -m "not browser and not wheel"

bench: install
	$(PY) -m bench.engine
	$(PY) -m bench.inbox
	$(PY) -m bench.sweep
	$(PY) -m bench.reports
	$(PY) -m bench.http

lint: install
	$(VENV)/bin/ruff check engine web tests bench tools

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

assets: $(ASSETS)

$(ASSETS): $(STAMP) $(wildcard web/package.json web/package-lock.json web/assets/*.js web/assets/*.css web/build.mjs \
			web/assets/*/*.js web/assets/*/*.css web/assets/*/*/*.js \
			web/translations/*/*/LC_MESSAGES/*.po)
	@if [ -f web/package.json ]; then \
	  cd web && npm ci --no-audit --no-fund --loglevel=error && node build.mjs; \
	else mkdir -p web/static/dist; fi
	@for d in web/translations/*/; do \
	  if [ -d "$$d" ]; then $(VENV)/bin/pybabel compile -f -d "$$d" >/dev/null || exit 1; fi; \
	done
	touch $@

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null); \
	  else \
	    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium' and make test again."; \
	    exit 1; \
	  fi; \
	fi
	@test -x /usr/bin/chromium

clean:
	rm -rf $(VENV) web/node_modules web/static/dist instance tests/artifacts
