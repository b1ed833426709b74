#!/usr/bin/env bash
# make bench: builds the bench index (.cache/bench-index), runs bench/analyze-overhead.ts (bare,
# sandbox, sandbox+strace, sandbox+bpftrace: bpftrace must be installed and tracefs mounted) and
# rewrites the "## Analyze overhead" section of docs/BENCHMARKS.md with its result (other
# sections are kept); every sample also goes to .cache/bench-results/.
# Then the benchmarks of issue 3, each rewriting its own section: "## Hunt throughput"
# (bench/hunt-throughput.ts), "## Storage per package" (bench/hunt-storage.ts), "## index sync of
# 750,000 names" (bench/index-sync.ts), "## Estimate: the whole index" (bench/hunt-estimate.ts).
# Tuning: BENCH_ROUNDS (default 5), BENCH_LIFECYCLE (default 20), BENCH_HUNT_ROUNDS (default 3),
# BENCH_SYNC_ROUNDS (default 3), BENCH_OFFLINE=1 (the estimate assumes ~700,000 projects instead of
# counting the configured index), BENCH_SKIP_OVERHEAD=1 (skip "## Analyze overhead").
# A quick look at a few hunt variants, without writing the doc: node --import tsx bench/hunt-throughput.ts
# --rounds 1 --variants bare,bare-runner,hunt-strace --no-profile
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
doc=docs/BENCHMARKS.md
if [ ! -f "$doc" ]; then
  cat >"$doc" <<'INTRO'
# Benchmarks

Measured with `make bench` on the project's machines (shared 2-CPU VMs: numbers move from run to
run; compare the ratios within one run). Each section is rewritten by the benchmark that owns it.
INTRO
fi
# Rewrites the section $section starts with (other sections are kept) and shows it.
write_section() {
  node --import tsx bench/replace-section.ts "$doc" "$section"
  # make lint checks Markdown too: align the tables as biome would.
  npx biome format --write "$doc" >/dev/null
  say "wrote the \"$(head -n 1 "$section")\" section of $doc"
  cat "$section"
}

if [ "${BENCH_SKIP_OVERHEAD:-0}" != 1 ]; then
  run=(node --import tsx bench/analyze-overhead.ts --rounds "$rounds" --lifecycle "$cycles")
  say "running: ${run[*]} (several minutes)"
  "${run[@]}" --command "make bench (scripts/bench.sh: ${run[*]})" \
    --save-raw .cache/bench-results/analyze-overhead.json >"$section"
  write_section
fi

raw=.cache/bench-results/hunt-throughput.json
run=(node --import tsx bench/hunt-throughput.ts --rounds "${BENCH_HUNT_ROUNDS:-3}")
say "running: ${run[*]} (several minutes)"
"${run[@]}" --command "make bench (scripts/bench.sh: ${run[*]})" --save-raw "$raw" >"$section"
write_section

run=(node --import tsx bench/hunt-storage.ts --raw "$raw")
"${run[@]}" --command "make bench (scripts/bench.sh: ${run[*]})" \
  --save-raw .cache/bench-results/hunt-storage.json >"$section"
write_section

run=(node --import tsx bench/index-sync.ts --rounds "${BENCH_SYNC_ROUNDS:-3}")
say "running: ${run[*]}"
"${run[@]}" --command "make bench (scripts/bench.sh: ${run[*]})" \
  --save-raw .cache/bench-results/index-sync.json >"$section"
write_section

run=(node --import tsx bench/hunt-estimate.ts --raw "$raw")
if [ "${BENCH_OFFLINE:-0}" = 1 ]; then run+=(--offline); fi
"${run[@]}" --command "make bench (scripts/bench.sh: ${run[*]})" >"$section"
write_section
