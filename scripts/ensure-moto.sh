#!/usr/bin/env bash
# Installs moto's server into ./.venv (idempotent, quick when already there).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/moto_server ] && .venv/bin/python -c 'import moto, flask' 2>/dev/null; then
  exit 0
fi
echo "==> installing moto's server into .venv"
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.*'
