#!/usr/bin/env bash
# Starts the studio on http://127.0.0.1:8000 (creating .venv and installing the project first).
# Extra arguments go to `motornet-studio serve` (e.g. --port 8080 --data-dir ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[search]'
exec .venv/bin/motornet-studio serve "$@"
