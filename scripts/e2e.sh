#!/usr/bin/env bash
# Runs the Playwright suite in headless Chromium against a freshly started console: the
# built dev binary, the sandbox cloud with its demo apps, a new SQLite file, a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
port="$(bash scripts/free-port.sh)"
work="$(mktemp -d -t shinyfleet-e2e.XXXXXX)"
# The demo users' password, known to the specs (by default the sandbox makes up a new one).
export E2E_PASSWORD="Demo-pass-2026"
SHINYFLEET_LISTEN="127.0.0.1:$port" DATABASE_URL="sqlite://$work/e2e.db" SHINYFLEET_CLOUD=sandbox \
  SHINYFLEET_DEMO_PASSWORD="$E2E_PASSWORD" \
  SHINYFLEET_REFRESH_SECS=1 LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  "$target/debug/shinyfleet" serve >"$work/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done
cd end2end
if ! BASE_URL="http://127.0.0.1:$port" npx playwright test "$@"; then
  echo "---- server log ----" >&2; cat "$work/server.log" >&2; exit 1
fi
