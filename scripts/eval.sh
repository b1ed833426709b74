#!/usr/bin/env bash
# make eval: analyses the popular projects of data/popular-pypi.json in the sandbox (a resumable
# hunt from the index pip is configured with), then re-scores the stored records with the current
# rules (`pkghunt eval`: recall over the malware samples' records from `make dataset`, false
# positives over the popular ones) and writes the "Evaluation" section of docs/BENCHMARKS.md.
#   PKGHUNT_EVAL_SKIP_HUNT=1   re-score only (no sandbox runs)
#   PKGHUNT_EVAL_DB=FILE       the popular store (default out/eval/popular.db)
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/eval
db="${PKGHUNT_EVAL_DB:-$out/popular.db}"
names="$out/popular-names.txt"
mkdir -p "$out"

# The project list goes into the store first: a hunt on an empty store would sync the index's
# whole list of names, which the popular projects do not need.
bin/pkghunt eval --seed-popular "$names" --popular-db "$db"

if [ "${PKGHUNT_EVAL_SKIP_HUNT:-0}" != 1 ]; then
  # Huge projects (torch, tensorflow, CUDA wheels: GBs) are not skipped by name: the sandbox's
  # disk limit (--disk, 2 GB tmpfs) and the per-phase timeout end them, and their records say
  # so (limits_hit); eval counts them apart from the installed ones. One worker, lowest CPU
  # priority: the machine is shared.
  set +e
  nice -n 19 bin/pkghunt hunt --db "$db" --from "$names" --workers 1 --max-attempts 2 --json \
    >>"$out/hunt.ndjson" 2>>"$out/hunt.stderr"
  code=$?
  set -e
  if [ "$code" -ne 0 ]; then
    echo "eval: the popular hunt stopped with exit $code (run make eval again to resume); scoring what is stored" >&2
  fi
fi

if [ ! -d out/dataset/records ]; then
  echo "eval: no sample records in out/dataset/records; running make dataset first (~30 min)" >&2
  bash scripts/dataset.sh
fi

bin/pkghunt eval --popular-db "$db" --markdown "$out/evaluation.md" >/dev/null
section="$out/evaluation-section.md"
{
  echo "## Evaluation"
  echo
  echo "Produced by \`make eval\` (scripts/eval.sh): the popular projects of \`data/popular-pypi.json\` are"
  echo "analysed in the sandbox by a resumable hunt into \`$db\`, then \`pkghunt eval\` re-scores every stored record"
  echo "with the current rules (no sandbox re-run) and writes this section. The samples' records come from"
  echo "\`make dataset\` (strace); the popular ones from the hunt (its default tracer, strace)."
  echo
  cat "$out/evaluation.md"
} >"$section"
node --import tsx bench/replace-section.ts docs/BENCHMARKS.md "$section"
echo "eval: docs/BENCHMARKS.md updated (section Evaluation); full text in $out/evaluation.md" >&2
