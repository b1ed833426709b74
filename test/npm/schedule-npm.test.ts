import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { NPM_FIXTURES_DIR, publishNpmPackage } from '../../demo/build-npm-registry.ts';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { scheduleNpmProject } from '../../src/app/schedule-npm-project.ts';

test('npm scheduling: latest, --all-versions, --since on publication times, a missing package recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-schedule-npm-'));
  const store = openSqliteStore(join(dir, 'store.db'));
  try {
    const registryDir = join(dir, 'registry');
    const source = join(NPM_FIXTURES_DIR, 'ph-npm-util');
    await publishNpmPackage(registryDir, source, { version: '1.0.0', published: '2024-01-01T00:00:00.000Z' });
    await publishNpmPackage(registryDir, source, {
      version: '1.1.0-beta.1',
      published: '2024-05-01T00:00:00.000Z',
    });
    await publishNpmPackage(registryDir, source, { version: '1.1.0', published: '2024-06-01T00:00:00.000Z' });
    const registry = `${pathToFileURL(registryDir).href}/`;

    assert.deepEqual(await scheduleNpmProject(store, 'ph-npm-util', { registry }), { versions: ['1.1.0'] });
    assert.deepEqual(await scheduleNpmProject(store, 'ph-npm-util', { registry, allVersions: true }), {
      versions: ['1.1.0', '1.0.0'],
    });
    assert.deepEqual(
      await scheduleNpmProject(store, 'ph-npm-util', { registry, allVersions: true, since: '2024-03-01' }),
      { versions: ['1.1.0'] },
    );
    const releases = await store.listReleases('ph-npm-util', { ecosystem: 'npm' });
    assert.deepEqual(
      releases.map((r) => [r.version, r.uploadTime]),
      [
        ['1.1.0', '2024-06-01T00:00:00.000Z'],
        ['1.0.0', '2024-01-01T00:00:00.000Z'],
      ],
    );
    assert.equal(releases[0]?.files[0]?.filename, 'ph-npm-util-1.1.0.tgz');
    assert.deepEqual(await store.listReleases('ph-npm-util'), [], 'nothing stored as PyPI');

    const missing = await scheduleNpmProject(store, 'ph-npm-absent', { registry });
    assert.equal(missing.versions.length, 0);
    assert.match('noRelease' in missing ? missing.noRelease : '', /Cannot find package ph-npm-absent/);
    assert.notEqual(await store.releasesCheckedAt('ph-npm-absent', { ecosystem: 'npm' }), null);
    assert.equal(await store.releasesCheckedAt('ph-npm-absent'), null);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
