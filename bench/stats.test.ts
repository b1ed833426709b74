import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interleave, summarize } from './stats.ts';

test('summarize gives the median of odd and even sample counts', () => {
  assert.deepEqual(summarize([3, 1, 2]), { n: 3, median: 2, min: 1, max: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { n: 4, median: 2.5, min: 1, max: 4 });
  assert.equal(summarize([]), null);
});

test('interleave puts each variant first equally often across rounds', () => {
  const firsts = [0, 1, 2].map((round) => interleave(['a', 'b', 'c'], round, 0)[0]);
  assert.deepEqual(firsts, ['a', 'b', 'c']);
  assert.deepEqual(interleave(['a', 'b', 'c'], 1, 1), ['c', 'a', 'b']);
});
