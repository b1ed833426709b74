#!/usr/bin/env bash
# Runs the test suite with node's own test runner. Unit tests sit next to the code they test
# (src/**/*.test.ts); end-to-end tests that run the real CLI, sandbox and tracer live in test/.
# Usage: run-tests.sh [unit|e2e|all] | run-tests.sh FILE.test.ts...
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-all}"
mapfile -t unit < <(find src bench -name "*.test.ts" | sort)
mapfile -t e2e < <(find test -name "*.test.ts" | sort)
case "$kind" in
  unit) files=("${unit[@]}") ;;
  e2e) files=("${e2e[@]}") ;;
  all) files=("${unit[@]}" "${e2e[@]}") ;;
  *.ts) files=("$@") ;;
  *) echo "usage: run-tests.sh unit|e2e|all|FILE.test.ts..." >&2; exit 2 ;;
esac
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
# Sandboxes are heavy on 2 cores: run test files one at a time. The spec reporter is for people;
# a TAP copy gives the closing "N passed, N failed" line.
tap="$(mktemp /tmp/pkghunt-tap-XXXXXX)"
trap 'rm -f "$tap"' EXIT
set +e
node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
code=$?
set -e
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -1)
skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -1)
echo "${pass:-0} passed, ${fail:-0} failed, ${skipped:-0} skipped"
exit "$code"
