#!/bin/bash
# Runs COMMAND under pkghunt's bpftrace script and stays its parent, so that the trace is complete
# when this exits (as with strace). Usage: bpftrace-wrap.sh SCRIPT TRACE_FILE NONCE -- COMMAND...
# The command is held on a fifo until bpftrace has attached every probe; exit status is the command's.
set -u
script=$1 out=$2 nonce=$3
shift 4
gate="$out.gate"
rm -f "$gate" "$out"
mkfifo -m 600 "$gate" || exit 125

( read -r _ <"$gate"; exec "$@" ) &
child=$!
BPFTRACE_STRLEN=200 BPFTRACE_PERF_RB_PAGES=1024 BPFTRACE_MAP_KEYS_MAX=65536 \
  bpftrace -q -B none "$script" "$child" "$nonce" "$$" </dev/null >"$out" 2>"$out.log" 3>&- &
bp=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP

# Ready when the last probe of the script answered our kill -0 of the held child.
ready=0
for _ in $(seq 1 1500); do
  kill -0 "$child" 2>/dev/null
  if [ -s "$out" ] && grep -q "^$nonce K$" "$out"; then ready=1; break; fi
  kill -0 "$bp" 2>/dev/null || break
  sleep 0.02
done
if [ "$ready" != 1 ]; then
  echo "pkghunt: bpftrace did not attach: $(tail -c 2000 "$out.log" 2>/dev/null)" >&2
  kill -KILL "$child" "$bp" 2>/dev/null
  wait
  rm -f "$gate"
  exit 125
fi
echo go >"$gate"
wait "$child"
rc=$?
# A signal to us interrupts wait: wait again for the command itself.
while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
rm -f "$gate"

# Stop marker: bpftrace prints Z after every record before it (-B none writes each record at once).
# Detaching its probes then takes seconds: it finishes that on its own, we do not wait for it.
kill -0 $$
for _ in $(seq 1 500); do
  grep -q "^$nonce Z$" "$out" 2>/dev/null && break
  kill -0 "$bp" 2>/dev/null || break
  sleep 0.01
done
if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
  trap - TERM INT HUP
  kill -s "$((rc - 128))" $$
fi
exit "$rc"
