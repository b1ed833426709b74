#!/usr/bin/env bash
# Downloads the wheels pip needs to build sdists with build isolation (setuptools, and wheel with
# its one dependency packaging, for sdists that still ask for wheel) into
# CACHE_DIR, for demo/build-demo-index.ts to put into the demo index. Wheels only: downloading a
# wheel never runs its code. Skips when both are already there.
#
# Where from: pip's own configuration, never a host written here. A local source the machine's pip
# is configured with (a file:// index or a find-links folder) is tried first, since it needs no
# network; then global.index-url, else pip's built-in default index. --isolated keeps the machine's
# constraints and other indexes out of each attempt.
set -euo pipefail
cache_dir="${1:?usage: fetch-build-deps.sh CACHE_DIR}"
python="${PYTHON:-python3}"
say() { printf '[fetch-build-deps] %s\n' "$*" >&2; }

have_all() {
  compgen -G "$cache_dir/setuptools-*.whl" >/dev/null && compgen -G "$cache_dir/wheel-*.whl" >/dev/null &&
    compgen -G "$cache_dir/packaging-*.whl" >/dev/null
}
mkdir -p "$cache_dir"
if have_all; then
  say "present in $cache_dir"
  exit 0
fi

config_get() { "$python" -m pip config get "$1" 2>/dev/null || true; }

# Candidate sources, one "index URL" or "--find-links DIR" per line.
sources=()
for url in $(config_get global.extra-index-url) $(config_get global.index-url); do
  case "$url" in file://*) sources+=("index $url") ;; esac
done
for dir in $(config_get global.find-links); do
  [ -d "$dir" ] && sources+=("links $dir")
done
index_url="$(config_get global.index-url)"
if [ -z "$index_url" ]; then
  index_url="$("$python" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')"
fi
sources+=("index $index_url")

for source in "${sources[@]}"; do
  kind="${source%% *}"
  where="${source#* }"
  if [ "$kind" = index ]; then
    args=(--index-url "$where")
  else
    args=(--no-index --find-links "$where")
  fi
  say "trying $where"
  if PIP_CONFIG_FILE=/dev/null "$python" -m pip download --only-binary=:all: --no-deps --isolated \
    --disable-pip-version-check --quiet "${args[@]}" -d "$cache_dir" setuptools wheel packaging; then
    if have_all; then
      say "downloaded into $cache_dir: $(cd "$cache_dir" && echo *.whl)"
      exit 0
    fi
  fi
done
say "could not download setuptools, wheel and packaging from any configured source"
exit 1
