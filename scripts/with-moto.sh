#!/usr/bin/env bash
# Runs a command with moto's server (an AWS API emulator) on a free loopback port, exported as
# MOTO_ENDPOINT, and stops the server afterwards whatever the command's outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
port="$(bash scripts/free-port.sh)"
log="$(mktemp -t moto.XXXXXX.log)"
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/"; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then cat "$log" >&2; echo "moto_server did not start" >&2; exit 1; fi
  sleep 0.1
done
echo "==> moto_server on 127.0.0.1:$port"
MOTO_ENDPOINT="http://127.0.0.1:$port" "$@"
