# ShinyFleet: the two commands of the README, and a few helpers.
#   make run    build and serve the console on http://127.0.0.1:3000 (SQLite + sandbox cloud)
#   make test   every check and test: fmt, sqlx cache, clippy, unit + integration, moto, Playwright

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export SQLX_OFFLINE := true
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)

.PHONY: run test tools test-tools fmt-check deps-check sqlx-check clippy unit e2e release sqlx-prepare bench

run: tools
	cargo leptos serve

test: test-tools fmt-check deps-check sqlx-check clippy unit e2e
	@echo "make test: all checks passed"

tools:
	@bash scripts/ensure-tools.sh run

test-tools:
	@bash scripts/ensure-tools.sh test

fmt-check:
	cargo fmt --all --check

# Every declared dependency is used (cargo-machete reads the sources; no build needed).
deps-check:
	cargo machete

# The compile-time checked queries' cache (.sqlx/) must match the code and the migrations.
sqlx-check:
	@db="$$(mktemp -d)/schema.db"; \
	DATABASE_URL="sqlite://$$db" cargo sqlx database setup --source migrations >/dev/null; \
	DATABASE_URL="sqlite://$$db" SQLX_OFFLINE=false cargo sqlx prepare --workspace --check -- --all-targets; \
	rm -f "$$db"

# Rewrites .sqlx/ after a query or migration changed.
sqlx-prepare:
	@db="$$(mktemp -d)/schema.db"; \
	DATABASE_URL="sqlite://$$db" cargo sqlx database setup --source migrations >/dev/null; \
	DATABASE_URL="sqlite://$$db" SQLX_OFFLINE=false cargo sqlx prepare --workspace -- --all-targets; \
	rm -f "$$db"

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

# Unit and integration tests; the AWS adapters' tests run against moto's server.
unit:
	bash scripts/with-moto.sh cargo test --workspace

# The browser suite against a dev build: the server binary `cargo test` already built (same
# features, no second build of the dependencies) and the wasm bundle from cargo-leptos.
e2e:
	cargo test --workspace --no-run --quiet
	cargo leptos build --frontend-only
	bash scripts/e2e.sh

# An optimised build (wasm-opt from npm's binaryen, on PATH above).
release: tools
	@[ -x end2end/node_modules/.bin/wasm-opt ] || (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	cargo leptos build --release
	bash scripts/precompress.sh target/site

# Benchmarks (figures printed, never asserted; see bench/README.md): the Fleet page and
# GET /api/v1/apps under load (Debian's wrk), poller AWS requests per cycle, CloudWatch
# metrics per app-hour, schedule planning, scheduler lateness, the binary's start-up and
# memory, and the release bundle's size. Prints a table and writes bench/results.json.
# `make bench ARGS="32 20"`: 32 connections, 20 s per load.
bench: tools
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk unavailable: the bench loads the page itself"
	@[ -x end2end/node_modules/.bin/wasm-opt ] || (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
	LEPTOS_SITE_ROOT=target/bench-site cargo leptos build --release --frontend-only
	bash scripts/precompress.sh target/bench-site
	cargo build --profile perf -p server --bin shinyfleet --example bench
	BENCH_SITE=target/bench-site "$${CARGO_TARGET_DIR:-target}/perf/examples/bench" $(ARGS)
