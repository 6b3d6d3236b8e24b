#!/usr/bin/env bash
# Installs what building and testing ShinyFleet needs, skipping whatever is already there.
#   scripts/ensure-tools.sh run    the Rust toolchain pieces (wasm target, wasm-bindgen, cargo-leptos)
#   scripts/ensure-tools.sh test   the above, plus sqlx-cli, cargo-machete, Chromium, the end2end npm packages, moto
# Everything comes from the package registries (crates.io, npm, PyPI, Debian): no other downloads.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-run}"

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen` pin in Cargo.toml
CARGO_LEPTOS_VERSION=0.3.10    # 0.3.11 needs a newer rustc
SQLX_CLI_VERSION=0.8.6
CARGO_MACHETE_VERSION=0.9.2

# Tools are built once into ~/.cargo/bin; their own build does not need to be fast.
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "==> adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  echo "==> installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  echo "==> installing cargo-leptos $CARGO_LEPTOS_VERSION (takes a while, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi
[ "$what" = test ] || exit 0

if ! cargo sqlx --version >/dev/null 2>&1; then
  echo "==> installing sqlx-cli $SQLX_CLI_VERSION"
  cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --no-default-features --features sqlite,rustls --locked
fi
if [ "$(cargo machete --version 2>/dev/null | awk '{print $NF}')" != "$CARGO_MACHETE_VERSION" ]; then
  echo "==> installing cargo-machete $CARGO_MACHETE_VERSION"
  cargo install cargo-machete --version "$CARGO_MACHETE_VERSION" --locked --force
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  echo "==> installing the end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
bash scripts/ensure-moto.sh
