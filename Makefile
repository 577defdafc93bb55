# Medallion: `make run` starts the whole stack, `make test` runs the test suite.
# Everything installs into .venv from pyproject.toml, pinned by constraints.txt.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-integration migrate reset-db rebuild token bench wrk lint lock clean help

help:
	@echo "make run       start Postgres, sandboxes, Dagster (:3000) and the API (:8000)"
	@echo "make test      run the test suite against a real Postgres"
	@echo "make migrate   apply supabase/migrations;  make reset-db  rebuild the local schema"
	@echo "make rebuild   re-derive silver and gold from the latest bronze (CASE=<id> for one case)"
	@echo "make token     print a development JWT;  make bench  run the benchmarks"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(PY) scripts/run_stack.py

test: $(STAMP)
	$(PY) -m pytest -m "not integration and not reliability" $(PYTEST_ARGS)

migrate: $(STAMP)
	$(PY) -m backend.app.db.migrate

reset-db: $(STAMP)
	$(PY) -m backend.app.db.migrate --reset

rebuild: $(STAMP)
	$(PY) -m backend.app.db.rebuild $(CASE)

token: $(STAMP)
	@$(PY) -m backend.app.security

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || $(MAKE) --no-print-directory wrk
	$(PY) -m bench.run_all

# The API benchmarks drive the server with wrk (Debian package; root or sudo needed to install).
wrk:
	@echo "wrk is not installed; installing it with apt-get (Debian/Ubuntu) ..."
	@SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	{ $$SUDO apt-get install -y wrk >/dev/null 2>&1 || { $$SUDO apt-get update >/dev/null 2>&1 && \
	  $$SUDO apt-get install -y wrk >/dev/null 2>&1; }; } && command -v wrk >/dev/null || \
	{ echo "Could not install wrk. Install it (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk)," \
	  "then run make bench again." >&2; exit 1; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Refresh constraints.txt from what is installed (after changing pyproject.toml).
lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache
