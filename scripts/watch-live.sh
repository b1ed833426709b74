#!/usr/bin/env bash
# Runs `pkghunt watch` against the live index (the one pip is configured with) for a while and
# prints what it saw: releases seen, analysed, alerts, median lag from upload to verdict.
# Every analysis goes through the normal sandbox. Usage: make watch-live [DURATION=1h] [WORKERS=1]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-1h}"
WORKERS="${WORKERS:-1}"
OUT="out/watch-live"
mkdir -p "$OUT"
echo "watch-live: watching for $DURATION with $WORKERS worker(s); events in $OUT/events.ndjson" >&2
set +e
bin/pkghunt watch --duration "$DURATION" --workers "$WORKERS" --db "$OUT/watch.db" \
  --status-interval 5m --json "$@" >"$OUT/events.ndjson"
code=$?
set -e
# The last status event holds the totals of the run.
grep '"type":"status"' "$OUT/events.ndjson" | tail -n 1 || true
grep -c '"type":"feed-error"' "$OUT/events.ndjson" | sed 's/^/feed errors: /' || true
grep '"error"' "$OUT/events.ndjson" | head -n 1 || true
exit "$code"
