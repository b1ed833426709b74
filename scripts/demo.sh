#!/usr/bin/env bash
# The main job on the embedded default: hunt the demo index (built by set-up from our own
# fixtures) with 2 sandboxes at once into a fresh SQLite store, print the aggregate tables,
# and export the records to out/demo/ (one JSON per package).
set -euo pipefail
cd "$(dirname "$0")/.."
index="$PWD/.cache/demo-index/simple"
out="${PKGHUNT_DEMO_OUT:-out/demo}"
work="$(mktemp -d /tmp/pkghunt-demo-XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
status=0
bin/pkghunt hunt --index-url "file://$index" --db "$work/pkghunt.db" --match 'ph-demo-*' --workers 2 --timeout 120 || status=$?
for pkg in ph-demo-pure ph-demo-cext ph-demo-gist-dropper ph-demo-ci-exfil ph-demo-obfuscated; do
  printf '\n\033[1m=== %s ===\033[0m\n' "$pkg"
  bin/pkghunt show "$pkg" --db "$work/pkghunt.db" || status=$?
done
bin/pkghunt export --db "$work/pkghunt.db" --format json-dir --out "$out"
printf '\nRecords written to %s/ (one JSON per package; the summaries above are `bin/pkghunt show NAME`)\n' "$out"
exit "$status"
