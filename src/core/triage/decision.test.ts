import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Decision, decisionsInForce, triageLabels } from './decision.ts';

const d = (id: number, label: Decision['label'], rule: string | null = null, project = 'a'): Decision => ({
  id,
  project,
  version: '1',
  resultId: null,
  rule,
  label,
  comment: '',
  analyst: null,
  decidedAt: '2026-01-01T00:00:00Z',
});

test('the latest decision per release and rule is in force; labels come from release decisions', () => {
  const inForce = decisionsInForce([
    d(3, 'false_positive'),
    d(1, 'confirmed_malicious'),
    d(2, 'needs_review', 'net.x'),
    d(4, 'confirmed_malicious', null, 'b'),
  ]);
  assert.deepEqual(
    inForce.map((x) => x.id),
    [2, 3, 4],
  );
  assert.deepEqual(
    [...triageLabels(inForce)],
    [
      ['a==1', 'benign'],
      ['b==1', 'malicious'],
    ],
  );
});
