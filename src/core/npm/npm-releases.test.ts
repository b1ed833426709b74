import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime, npmReleasePlan, npmReleases } from './npm-releases.ts';
import { parsePackument } from './packument.ts';

function manifest(version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'p', version, dist: { tarball: `-/p-${version}.tgz` }, ...extra };
}

const doc = parsePackument(
  {
    name: 'p',
    'dist-tags': { latest: '1.1.0', next: '2.0.0-beta.1' },
    versions: {
      '1.0.0': manifest('1.0.0'),
      '1.1.0': manifest('1.1.0'),
      '2.0.0-beta.1': manifest('2.0.0-beta.1'),
      '0.9.0': manifest('0.9.0', { deprecated: 'use 1.x' }),
    },
    time: {
      created: '2024-01-01T00:00:00.000Z',
      // The mirror in use writes microseconds and an offset: normalised to ISO UTC.
      '0.9.0': '2024-01-01T00:00:00.000000+00:00',
      '1.0.0': '2024-02-01T00:00:00.000Z',
      '2.0.0-beta.1': '2024-04-01T00:00:00.000Z',
      '1.1.0': '2024-03-01T00:00:00.000Z',
    },
  },
  'test',
);

test('npm releases: publication times normalised, oldest first', () => {
  assert.equal(isoTime('2024-12-04T23:03:58.786000+00:00'), '2024-12-04T23:03:58.786Z');
  assert.equal(isoTime('not a date'), null);
  assert.equal(isoTime({ time: 'x' }), null);
  assert.deepEqual(
    npmReleases(doc).map((r) => [r.version, r.published, r.filename, r.deprecated]),
    [
      ['0.9.0', '2024-01-01T00:00:00.000Z', 'p-0.9.0.tgz', true],
      ['1.0.0', '2024-02-01T00:00:00.000Z', 'p-1.0.0.tgz', false],
      ['1.1.0', '2024-03-01T00:00:00.000Z', 'p-1.1.0.tgz', false],
      ['2.0.0-beta.1', '2024-04-01T00:00:00.000Z', 'p-2.0.0-beta.1.tgz', false],
    ],
  );
});

test('npm release plan: latest; with all versions the final ones newest first; none with a reason', () => {
  const latest = npmReleasePlan(doc);
  assert.equal(latest.kind, 'releases');
  assert.deepEqual(latest.kind === 'releases' ? latest.releases.map((r) => r.version) : [], ['1.1.0']);
  const all = npmReleasePlan(doc, { allVersions: true });
  assert.deepEqual(all.kind === 'releases' ? all.releases.map((r) => r.version) : [], [
    '1.1.0',
    '1.0.0',
    '0.9.0',
  ]);
  const unpublished = parsePackument(
    {
      name: 'gone',
      time: { created: '2024-01-01T00:00:00Z', unpublished: { time: '2024-01-02T00:00:00Z' } },
    },
    'test',
  );
  const none = npmReleasePlan(unpublished);
  assert.equal(none.kind, 'none');
  assert.match(none.kind === 'none' ? none.reason : '', /unpublished/);
  const noLatest = parsePackument({ name: 'q', versions: { '1.0.0': manifest('1.0.0') } }, 'test');
  assert.equal(npmReleasePlan(noLatest).kind, 'none');
});
