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
bin/pkghunt export --db "$work/pkghunt.db" --format json-dir --out "$out"
printf '\nRecords written to %s/ (show one with: bin/pkghunt analyze ... or read the JSON)\n' "$out"
exit "$status"
