#!/usr/bin/env bash
# Writes gzip (and, when the brotli tool is installed, brotli) copies of the site's bundle
# next to each file, at the highest levels: the console serves the copy a browser accepts
# instead of compressing per request. Usage: scripts/precompress.sh <site root>
set -euo pipefail
root="${1:?usage: scripts/precompress.sh <site root>}"
find "$root" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) | while read -r file; do
  gzip -9 -k -f -n "$file"
  if command -v brotli >/dev/null; then brotli -q 11 -k -f "$file"; fi
done
