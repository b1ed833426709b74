import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globMatcher } from './glob-matcher.ts';

test('globs match like a shell on normalised names', () => {
  const demo = globMatcher('ph-demo-*');
  assert.ok(demo('ph-demo-pure'));
  assert.ok(!demo('ph-test-pure'));
  assert.ok(globMatcher('dj?ngo')('django'));
  assert.ok(globMatcher('[ab]*')('attrs'));
  assert.ok(!globMatcher('[!ab]*')('attrs'));
  assert.ok(globMatcher('a.b')('a.b'));
  assert.ok(!globMatcher('a.b')('axb'), 'a dot is literal');
  assert.ok(globMatcher('x(1)+')('x(1)+'), 'regex metacharacters are literal');
});
