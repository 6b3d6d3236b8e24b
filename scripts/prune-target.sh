#!/usr/bin/env bash
# Keeps the build cache small: drops incremental-compilation caches and, in debug/deps, every
# test or binary executable but the newest of its name (each rebuild with changed code leaves
# the previous one behind: 38 GB of them once filled the disk mid-test).
set -euo pipefail
target="${CARGO_TARGET_DIR:-target}"
rm -rf "$target"/debug/incremental "$target"/wasm32-unknown-unknown/*/incremental
deps="$target/debug/deps"
[ -d "$deps" ] || exit 0
find "$deps" -maxdepth 1 -type f -executable -regextype posix-extended -regex '.*/[a-z0-9_]+-[0-9a-f]{16}' -printf '%T@ %f\n' |
  sort -rn |
  awk '{ name = substr($2, 1, length($2) - 17); if (seen[name]++) print $2 }' |
  while read -r stale; do rm -f "$deps/$stale"; done
