#!/usr/bin/env bash
# Runs every real malware sample of ../shared/datasets/pypi-malware-dev through `pkghunt analyze`
# (inside the sandbox only: the archives are extracted to a temp dir and handed to the sandbox,
# never built or installed on the host) and counts what each showed. Results: out/dataset/.
set -euo pipefail
cd "$(dirname "$0")/.."
dataset="${PKGHUNT_DATASET:-../shared/datasets/pypi-malware-dev}"
if [ ! -f "$dataset/samples.zip" ]; then
  echo "dataset: $dataset/samples.zip not found; skipping (set PKGHUNT_DATASET to its folder)" >&2
  exit 0
fi
out="${PKGHUNT_DATASET_OUT:-out/dataset}"
limit="${PKGHUNT_DATASET_LIMIT:-0}"
timeout="${PKGHUNT_DATASET_TIMEOUT:-90}"
mkdir -p "$out/records"
tmp="$(mktemp -d /tmp/pkghunt-dataset-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
python3 - "$dataset/samples.zip" "$tmp" <<'PY'
import sys, zipfile
# Extract archives only; nothing here is opened, built or run.
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], pwd=b"infected")
PY
n=0
tail -n +2 "$dataset/labels.tsv" | while IFS=$'\t' read -r path name version tags; do
  n=$((n + 1))
  if [ "$limit" -gt 0 ] && [ "$n" -gt "$limit" ]; then break; fi
  file="$tmp/samples/$path"
  rec="$out/records/$name-$version.json"
  if [ -s "$rec" ]; then continue; fi
  printf '[%d] %s %s ... ' "$n" "$name" "$version" >&2
  set +e
  bin/pkghunt analyze "$file" --json --progress none --timeout "$timeout" >"$rec.tmp" 2>"$out/records/$name-$version.err"
  code=$?
  set -e
  mv "$rec.tmp" "$rec"
  echo "exit $code" >&2
done
node --import tsx scripts/dataset-summary.ts "$out/records" "$dataset/labels.tsv" | tee "$out/summary.md"
