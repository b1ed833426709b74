#!/usr/bin/env bash
# The main job on the embedded default: analyse every demo package from the local demo index
# (built by set-up from our own fixtures), print each summary, write the records to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
index="$PWD/.cache/demo-index/simple"
out="${PKGHUNT_DEMO_OUT:-out/demo}"
mkdir -p "$out"
packages=(ph-demo-pure ph-demo-cext ph-demo-gist-dropper ph-demo-ci-exfil ph-demo-obfuscated)
status=0
for pkg in "${packages[@]}"; do
  printf '\n\033[1m=== %s ===\033[0m\n' "$pkg"
  if ! bin/pkghunt analyze "$pkg" --index-url "file://$index" --out "$out/$pkg.json" --timeout 120; then
    status=1
  fi
done
printf '\nRecords written to %s/\n' "$out"
exit "$status"
