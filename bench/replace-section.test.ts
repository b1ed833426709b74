import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replaceSection } from './replace-section.ts';

const doc = '# Benchmarks\n\nIntro.\n\n## Analyze overhead\n\nold\n\n## Other\n\nkeep me\n';

test('replaceSection swaps only its own section and keeps the next one', () => {
  const out = replaceSection(doc, '## Analyze overhead\n\nnew numbers\n');
  assert.equal(out, '# Benchmarks\n\nIntro.\n\n## Analyze overhead\n\nnew numbers\n\n## Other\n\nkeep me\n');
});

test('replaceSection appends the section when the document lacks it', () => {
  const out = replaceSection('# Benchmarks\n\nIntro.\n', '## Analyze overhead\n\nx\n');
  assert.equal(out, '# Benchmarks\n\nIntro.\n\n## Analyze overhead\n\nx\n');
});

test('replaceSection replaces a last section up to the end', () => {
  const out = replaceSection('# B\n\n## Analyze overhead\n\nold\n', '## Analyze overhead\n\nnew\n');
  assert.equal(out, '# B\n\n## Analyze overhead\n\nnew\n');
});

test('replaceSection refuses a section without a level-2 heading', () => {
  assert.throws(() => replaceSection(doc, 'no heading\n'));
});
