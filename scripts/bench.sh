#!/usr/bin/env bash
# make bench: builds the bench index (.cache/bench-index), runs bench/analyze-overhead.ts and
# rewrites the "## Analyze overhead" section of docs/BENCHMARKS.md with its result (other
# sections are kept); every sample also goes to .cache/bench-results/.
# Tuning: BENCH_ROUNDS (default 5), BENCH_LIFECYCLE (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "the benchmarks need root (network namespaces, nftables, cgroups)"
  exit 1
fi
rounds="${BENCH_ROUNDS:-5}"
cycles="${BENCH_LIFECYCLE:-20}"

if ! node --import tsx bench/build-bench-index.ts; then
  say "could not reach the index pip is configured with: benching the files already there"
  node --import tsx bench/build-bench-index.ts --offline
fi

section="$(mktemp /tmp/pkghunt-bench-XXXXXX.md)"
trap 'rm -f "$section"' EXIT
run=(node --import tsx bench/analyze-overhead.ts --rounds "$rounds" --lifecycle "$cycles")
say "running: ${run[*]} (several minutes)"
"${run[@]}" --command "make bench (scripts/bench.sh: ${run[*]})" \
  --save-raw .cache/bench-results/analyze-overhead.json >"$section"

doc=docs/BENCHMARKS.md
if [ ! -f "$doc" ]; then
  cat >"$doc" <<'INTRO'
# Benchmarks

Measured with `make bench` on the project's machines (shared 2-CPU VMs: numbers move from run to
run; compare the ratios within one run). Each section is rewritten by the benchmark that owns it.
INTRO
fi
node --import tsx bench/replace-section.ts "$doc" "$section"
# make lint checks Markdown too: align the tables as biome would.
npx biome format --write "$doc" >/dev/null
say "wrote the \"## Analyze overhead\" section of $doc"
cat "$section"
