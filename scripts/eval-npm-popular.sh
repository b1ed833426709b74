#!/usr/bin/env bash
# npm false positives (issue 7): analyses every package of data/popular-npm.json for real, in the
# sandbox (`pkghunt analyze npm:NAME --json`: npm install with lifecycle scripts, then the import
# phase), two at once, then re-scores the kept records with the current rules (`pkghunt eval
# --npm-records`, no sandbox re-run) into $out/evaluation-npm.md.
#
# Resumable: a package with a record (records/NAME.json) or a recorded failure (failed/NAME.json)
# is skipped; run the script again to go on. Nothing is installed on the host: npm runs only in
# the sandbox, through the npm proxy, from the registry npm is configured with.
#
#   PKGHUNT_NPM_EVAL_OUT=DIR        records, failures, cache and log (default out/eval-npm)
#   PKGHUNT_NPM_EVAL_JOBS=N         analyses at once (default 2)
#   PKGHUNT_NPM_EVAL_LIMIT=N        only the first N of the list (default all)
#   PKGHUNT_NPM_EVAL_RETRY_FAILED=1 analyse the recorded failures again
#   PKGHUNT_NPM_EVAL_SKIP_RUN=1     re-score only (no sandbox runs)
#   PKGHUNT_NPM_EVAL_UPDATE_DOCS=1  also replace the "npm false positives" section of docs/BENCHMARKS.md
#   PKGHUNT_TIMEOUT=S               wall-clock limit per phase (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
list="${PKGHUNT_NPM_EVAL_LIST:-data/popular-npm.json}"
out="$(realpath -m "${PKGHUNT_NPM_EVAL_OUT:-out/eval-npm}")"
jobs="${PKGHUNT_NPM_EVAL_JOBS:-2}"
limit="${PKGHUNT_NPM_EVAL_LIMIT:-0}"
mkdir -p "$out/records" "$out/failed" "$out/logs"
# The proxy keeps every tarball it served under $cache/artifacts, by sha256: the re-scoring reads
# each package's own tarball from there for the static rules (in memory, never unpacked).
export PKGHUNT_CACHE_DIR="${PKGHUNT_CACHE_DIR:-$out/cache}"

# NAME -> file name: a scope's slash becomes "__" (@babel/core -> @babel__core).
names="$out/names.txt"
jq -r '.rows[].name' "$list" >"$names"
if [ "$limit" -gt 0 ]; then
  head -n "$limit" "$names" >"$names.tmp" && mv "$names.tmp" "$names"
fi

analyse_one() {
  local name="$1" file rec fail log started code
  file="${name//\//__}"
  rec="$out/records/$file.json"
  fail="$out/failed/$file.json"
  log="$out/logs/$file.log"
  [ -s "$rec" ] && return 0
  if [ -s "$fail" ] && [ "${PKGHUNT_NPM_EVAL_RETRY_FAILED:-0}" != 1 ]; then return 0; fi
  rm -f "$fail"
  started=$(date +%s)
  set +e
  # The record is written (atomically) only when the analysis produced one; an error is one JSON
  # object on stdout. The outer timeout is a guard for a hung analysis (two phases + margin).
  timeout --kill-after=60 "$(( ${PKGHUNT_TIMEOUT:-300} * 2 + 300 ))" \
    "$root/bin/pkghunt" analyze "npm:$name" --json --progress ndjson --out "$rec" \
    >"$log.stdout" 2>"$log"
  code=$?
  set -e
  local took=$(( $(date +%s) - started ))
  if [ -s "$rec" ]; then
    rm -f "$log.stdout"
    printf '%s\t%s\texit %d\t%ds\n' "$(date -u +%FT%TZ)" "$name" "$code" "$took" >>"$out/run.log"
    return 0
  fi
  # No record: keep why (the CLI's error object, else the end of stderr).
  local error
  error="$(jq -c '.error // empty' "$log.stdout" 2>/dev/null || true)"
  jq -n --arg name "$name" --argjson exit "$code" --argjson seconds "$took" \
    --arg at "$(date -u +%FT%TZ)" --arg stderr "$(tail -c 2000 "$log" 2>/dev/null)" \
    --argjson error "${error:-null}" \
    '{name: $name, exit: $exit, seconds: $seconds, at: $at, error: $error,
      reason: (if $error != null then "\($error.code): \($error.message)"
               elif $exit == 124 or $exit == 137 then "analysis exceeded the outer timeout"
               else "exit \($exit) without a record" end),
      stderr_tail: $stderr}' >"$fail.tmp"
  mv "$fail.tmp" "$fail"
  printf '%s\t%s\tFAILED exit %d\t%ds\n' "$(date -u +%FT%TZ)" "$name" "$code" "$took" >>"$out/run.log"
}
export -f analyse_one
export out root

if [ "${PKGHUNT_NPM_EVAL_SKIP_RUN:-0}" != 1 ]; then
  echo "eval-npm: $(wc -l <"$names") packages, $jobs at once; records in $out/records (pid $$)" >&2
  echo "$$" >"$out/runner.pid"
  # Which code made the records: one line per start of the runner (the eval prints them).
  jq -cn --arg at "$(date -u +%FT%TZ)" --arg tree "$root" \
    --arg commit "$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)" \
    --argjson dirty "$([ -n "$(git -C "$root" status --porcelain 2>/dev/null | head -1)" ] && echo true || echo false)" \
    '{started_at: $at, tree: $tree, commit: $commit, uncommitted_changes: $dirty}' >>"$out/runs.ndjson"
  xargs -d '\n' -P "$jobs" -I{} bash -c 'analyse_one "$1"' _ {} <"$names"
  rm -f "$out/runner.pid"
fi

"$root/bin/pkghunt" eval --npm-records "$out" --popular-list "$list" \
  --markdown "$out/evaluation-npm.md" >/dev/null
echo "eval-npm: evaluation in $out/evaluation-npm.md" >&2
if [ "${PKGHUNT_NPM_EVAL_UPDATE_DOCS:-0}" = 1 ]; then
  node --import tsx bench/replace-section.ts docs/BENCHMARKS.md "$out/evaluation-npm.md"
  # make lint checks Markdown too: align the tables as biome would.
  npx biome format --write docs/BENCHMARKS.md >/dev/null
  echo "eval-npm: docs/BENCHMARKS.md updated (section npm false positives)" >&2
fi
