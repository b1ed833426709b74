#!/usr/bin/env bash
# Installs whatever is missing for pkghunt, idempotently, and is quick when all is there:
# Debian packages (sandbox, tracer, network tools, the Python the sandbox uses), npm
# dependencies, and the local demo index (fixtures built by our own code + pip's build
# dependencies downloaded as wheels).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# Debian packages: command or file that proves each is there -> package name.
declare -A need=(
  [/usr/bin/bwrap]=bubblewrap
  [/usr/bin/strace]=strace
  [/usr/sbin/nft]=nftables
  [/usr/sbin/ip]=iproute2
  [/usr/bin/setpriv]=util-linux
  [/usr/bin/python3]=python3
  [/usr/lib/python3/dist-packages/pip]=python3-pip
  [/usr/lib/python3.11/venv/__init__.py]=python3-venv
  [/usr/lib/python3.11/ensurepip/__init__.py]=python3-venv
  [/usr/include/python3.11/Python.h]=python3-dev
  [/usr/bin/gcc]=gcc
  [/usr/bin/nc]=netcat-openbsd
  [/usr/bin/curl]=curl
  [/usr/bin/prlimit]=util-linux
  [/usr/bin/bpftrace]=bpftrace
  [/usr/lib/postgresql/15/bin/initdb]=postgresql
  [/usr/bin/chromium]=chromium  # the dashboard's browser tests (playwright-core drives it)
)
missing=()
for path in "${!need[@]}"; do
  [ -e "$path" ] || missing+=("${need[$path]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -ne 0 ]; then
    say "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The experimental bpftrace tracer needs tracefs (kept optional: analyze defaults to strace).
if [ ! -e /sys/kernel/tracing/events ] && [ "$(id -u)" -eq 0 ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || say "tracefs unavailable: the bpftrace tracer will not work (strace is the default)"
fi

# npm dependencies: only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The demo index: our fixture packages, built by our own code (never by running their setup.py),
# plus setuptools and wheel as wheels so that sdists build with isolation without the network.
if [ -f demo/build-demo-index.ts ]; then
  if [ -f demo/fetch-build-deps.sh ]; then bash demo/fetch-build-deps.sh .cache/build-deps; fi
  node --import tsx demo/build-demo-index.ts .cache/demo-index --all --build-deps .cache/build-deps >&2
fi
say "ready"
