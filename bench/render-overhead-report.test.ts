import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type InstallSample, type ReportInput, renderOverheadReport } from './render-overhead-report.ts';

function input(straceMs: number, lifecycleMs: number): ReportInput {
  const installs: InstallSample[] = [];
  for (const round of [1, 2, 3]) {
    installs.push({ pkg: 'a', variant: 'bare', round, ok: true, wallMs: 1000, innerMs: 990, note: null });
    installs.push({ pkg: 'a', variant: 'sandbox', round, ok: true, wallMs: 1200, innerMs: 1000, note: null });
    installs.push({
      pkg: 'a',
      variant: 'strace',
      round,
      ok: true,
      wallMs: straceMs,
      innerMs: 1300,
      note: null,
    });
    installs.push({
      pkg: 'a',
      variant: 'bpftrace',
      round,
      ok: true,
      wallMs: 1300,
      innerMs: 1150,
      note: null,
    });
  }
  installs.push({ pkg: 'a', variant: 'strace', round: 4, ok: false, wallMs: 1, innerMs: 0, note: 'boom' });
  return {
    command: 'make bench',
    date: '2026-01-01 00:00 UTC',
    machine: { nproc: 2, cpuModel: 'cpu', memoryGiB: 4, kernel: '6.1', node: '20', python: 'Python 3.11' },
    rounds: 3,
    packages: [{ name: 'a', file: 'a-1.tar.gz', why: 'test' }],
    installs,
    lifecycle: [
      { ok: true, netnsMs: 50, sandboxMs: 10, execMs: 20, teardownMs: 10, totalMs: lifecycleMs, note: null },
    ],
    notes: [],
  };
}

test('the report says met when sandbox+strace stays within 1.6x bare', () => {
  const md = renderOverheadReport(input(1500, 90));
  assert.match(md, /^## Analyze overhead\n/);
  assert.match(md, /sandbox\+strace ≤ 1.6x bare[^\n]*: 1.50x, \*\*met\*\*/);
  assert.match(md, /sandbox\+bpftrace ≤ 1.6x bare[^\n]*: 1.30x, \*\*met\*\*; every package within it/);
  assert.match(md, /≤ 150 ms[^\n]*: 90 ms, \*\*met\*\*/);
  assert.match(md, /\| a \| a-1.tar.gz \| 1.00 \(1.00–1.00\) \| 1.20 /);
});

test('the report says missed, with the numbers, and lists failed runs apart', () => {
  const md = renderOverheadReport(input(2000, 200));
  assert.match(md, /: 2.00x, \*\*missed\*\*/);
  assert.match(md, /over it: a 2.00x/);
  assert.match(
    md,
    /What the 1.00 s over bare went to: strace: outside the phase 0.50 s \(50%\), strace: inside the install phase 0.30 s/,
  );
  assert.match(md, /: 200 ms, \*\*missed\*\*/);
  assert.match(md, /- a, sandbox\+strace, round 4: boom/);
});
