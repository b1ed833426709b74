import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BPF_TOKEN_BASE, BpfOutputSplitter, launchReference } from './bpf-output-splitter.ts';

const A = 3 * BPF_TOKEN_BASE + 17;
const B = 3 * BPF_TOKEN_BASE + 99;
const FOREIGN = 5 * BPF_TOKEN_BASE + 1;

test('records go to their launch, continuations follow their record, foreign and closed launches are dropped', () => {
  const s = new BpfOutputSplitter();
  s.open(A);
  s.open(B);
  const items = [
    '0 R 1000 100 5',
    `${A} K 42`,
    `${A} Y 1 42 42 257 3 -100 0 0 0 /tmp/we`,
    'ird',
    `${B} E 2 43 43 1 /bin/sh`,
    '0 H',
    `${FOREIGN} Y 3 44 44 257 3 -100 0 0 0 /x`,
    'continuation of a foreign record',
    'Lost 7 events',
    `${A} Z`,
  ].map((line) => s.push(line));
  assert.deepEqual(items, [
    { kind: 'reference', line: '0 R 1000 100 5' },
    { kind: 'registered', token: A, pid: 42 },
    { kind: 'record', token: A, line: `${A} Y 1 42 42 257 3 -100 0 0 0 /tmp/we` },
    { kind: 'record', token: A, line: 'ird' },
    { kind: 'record', token: B, line: `${B} E 2 43 43 1 /bin/sh` },
    { kind: 'ignored' },
    { kind: 'ignored' },
    { kind: 'ignored' },
    { kind: 'lost', count: 7 },
    { kind: 'stop', token: A },
  ]);
  s.close(A);
  assert.deepEqual(s.push(`${A} X 9 42 42 0`), { kind: 'ignored' }, 'late lines of a closed launch');
  assert.equal(launchReference(s.reference ?? '', B), `${B} R 1000 100 5`);
});

test('a second time reference (a forged one in a string) is not taken as the reference', () => {
  const s = new BpfOutputSplitter();
  s.open(A);
  s.push('0 R 1000 100 5');
  s.push(`${A} S 42 x`);
  assert.deepEqual(s.push('0 R 9 9 9'), { kind: 'record', token: A, line: '0 R 9 9 9' });
  assert.equal(s.reference, '0 R 1000 100 5');
});
