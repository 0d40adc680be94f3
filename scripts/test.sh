#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine with Python 3.11:
# creates .venv, installs the project with its test extra, installs Debian's Chromium when run
# as root and it is missing (and PostgreSQL's server, for its tests), lints with ruff, type-checks with mypy, then runs pytest (two workers). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,search,rl,ray]'
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: run as root, or: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
# PostgreSQL's server binaries, for the migration and server tests on PostgreSQL (tests/backend/test_postgres.py)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy motornet_core backend
# two pytest workers (most tests wait on servers, sockets and browsers); whole files stay on one worker so
# their module fixtures start once. PYTEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -q -n "${PYTEST_WORKERS:-2}" --dist loadfile --durations=25 "$@"
