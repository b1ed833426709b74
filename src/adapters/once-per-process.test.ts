import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oncePerProcess } from './once-per-process.ts';

test('oncePerProcess keeps a success and forgets a failure', async () => {
  let calls = 0;
  const flaky = oncePerProcess(async () => {
    calls += 1;
    if (calls === 1) throw new Error('missing');
    return calls;
  });
  await assert.rejects(flaky(), /missing/);
  assert.equal(await flaky(), 2, 'the failure was not kept: made again');
  assert.equal(await flaky(), 2, 'the success is kept');
  assert.equal(calls, 2);
  const concurrent = oncePerProcess(async () => ({ made: Symbol('x') }));
  const [a, b] = await Promise.all([concurrent(), concurrent()]);
  assert.equal(a, b, 'callers at the same time share one making');
});
