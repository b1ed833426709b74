import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openPostgresStore } from '../../src/adapters/store/postgres-store.ts';
import { MIGRATIONS } from '../../src/adapters/store/sqlite-migrations.ts';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import type { ResultStore } from '../../src/adapters/store/store.ts';
import type { WatchState } from '../../src/adapters/store/watch-state.ts';
import { openPostgresWatchState } from '../../src/adapters/store/watch-state-postgres.ts';
import { openSqliteWatchState } from '../../src/adapters/store/watch-state-sqlite.ts';
import { recordFacts } from '../../src/core/behaviour/record-facts.ts';
import type { Ecosystem } from '../../src/core/ecosystem.ts';
import { buildAlert } from '../../src/core/feed/alert.ts';
import type { BehaviourRecord } from '../../src/core/record/schema.ts';
import { startTestPostgres } from '../helpers/postgres.ts';
import { makeRecord } from './make-record.ts';

/** `shared` as a PyPI project and as an npm package, each with its own verdict. */
function recordOf(ecosystem: Ecosystem, version: string, level: 'clean' | 'malicious'): BehaviourRecord {
  const base = makeRecord('shared', version);
  return {
    ...base,
    run_id: `run-${ecosystem}-${version}`,
    package: {
      ...base.package,
      ecosystem,
      requested: ecosystem === 'npm' ? `npm:shared@${version}` : `shared==${version}`,
    },
    verdict: {
      level,
      score: level === 'clean' ? 0 : 90,
      findings: [],
      static_files: null,
      population_adjusted: false,
    },
  };
}

const RECORDS = [
  recordOf('pypi', '1.0', 'clean'),
  recordOf('npm', '1.0', 'malicious'),
  recordOf('npm', '2.0', 'clean'),
];

/** What a reader sees of the two `shared` packages; the same on both engines. */
async function observe(store: ResultStore): Promise<Record<string, unknown>> {
  const names = async (it: AsyncIterable<BehaviourRecord>): Promise<string[]> => {
    const out: string[] = [];
    for await (const r of it) out.push(`${r.package.ecosystem}:${r.package.version}`);
    return out.sort();
  };
  return {
    pypiProjects: await store.countProjects(),
    npmProjects: await store.countProjects({ ecosystem: 'npm' }),
    npmSelected: await store.selectProjects({ ecosystem: 'npm', match: 'sh*' }),
    pypiLatest: (await store.getRecord('shared'))?.run_id,
    npmLatest: (await store.getRecord('shared', undefined, { ecosystem: 'npm' }))?.run_id,
    npmOne: (await store.getRecord('shared', '1.0', { ecosystem: 'npm' }))?.run_id,
    npmPrevious: (await store.previousRecord('shared', '2.0', { ecosystem: 'npm' }))?.run_id,
    pypiPrevious: (await store.previousRecord('shared', '2.0'))?.run_id,
    npmReleases: (await store.listReleases('shared', { ecosystem: 'npm' })).map((r) => r.version),
    pypiReleases: (await store.listReleases('shared')).map((r) => r.version),
    suspiciousNpm: await store.query('suspicious', { ecosystem: 'npm' }),
    suspiciousPypi: await store.query('suspicious', { ecosystem: 'pypi' }),
    outcomesAll: await store.query('outcomes'),
    all: await names(store.iterateRecords({ latestOnly: true })),
    npmOnly: await names(store.exportRecords({ ecosystem: 'npm' })),
  };
}

async function prepare(store: ResultStore): Promise<void> {
  for (const ecosystem of ['pypi', 'npm'] as const) {
    await store.upsertProjects([{ ecosystem, name: 'shared', normalized: 'shared', lastSerial: null }]);
  }
  await store.upsertRelease({
    project: 'shared',
    version: '1.0',
    uploadTime: '2024-01-01T00:00:00Z',
    files: [],
    metadata: null,
  });
  for (const [version, uploadTime] of [
    ['1.0', '2024-02-01T00:00:00Z'],
    ['2.0', '2024-03-01T00:00:00Z'],
  ] as const) {
    await store.upsertRelease({
      ecosystem: 'npm',
      project: 'shared',
      version,
      uploadTime,
      files: [],
      metadata: null,
    });
  }
}

function check(seen: Record<string, unknown>): void {
  assert.equal(seen.pypiProjects, 1);
  assert.equal(seen.npmProjects, 1);
  assert.deepEqual(seen.npmSelected, ['shared']);
  assert.equal(seen.pypiLatest, 'run-pypi-1.0');
  assert.equal(seen.npmLatest, 'run-npm-2.0');
  assert.equal(seen.npmOne, 'run-npm-1.0');
  assert.equal(seen.npmPrevious, 'run-npm-1.0', "npm's previous release is npm's");
  assert.equal(seen.pypiPrevious, 'run-pypi-1.0', "PyPI's previous release is PyPI's");
  assert.deepEqual(seen.npmReleases, ['2.0', '1.0']);
  assert.deepEqual(seen.pypiReleases, ['1.0']);
  assert.deepEqual(
    (seen.suspiciousNpm as { ecosystem: string; project: string; version: string }[]).map(
      (r) => `${r.ecosystem}:${r.project}:${r.version}`,
    ),
    ['npm:shared:1.0'],
  );
  assert.deepEqual(seen.suspiciousPypi, []);
  assert.deepEqual(seen.outcomesAll, [{ install_status: 'completed', import_status: null, packages: 3 }]);
  assert.deepEqual(seen.all, ['npm:1.0', 'npm:2.0', 'pypi:1.0']);
  assert.deepEqual(seen.npmOnly, ['npm:1.0', 'npm:2.0']);
}

async function watchStateCoexists(state: WatchState): Promise<void> {
  const seen = [
    { name: 'shared', version: '1.0', published: null, source: 'rss' as const },
    {
      name: 'shared',
      version: '1.0',
      published: null,
      source: 'npm-packument' as const,
      ecosystem: 'npm' as const,
    },
  ];
  assert.equal((await state.recordSeen(seen)).length, 2, 'the same name and version in two ecosystems');
  assert.equal((await state.recordSeen(seen)).length, 0);
  const unscanned = await state.unscanned(10);
  assert.deepEqual(unscanned.map((r) => `${r.ecosystem}:${r.project}==${r.version}`).sort(), [
    'npm:shared==1.0',
    'pypi:shared==1.0',
  ]);
  const npmRow = unscanned.find((r) => r.ecosystem === 'npm');
  assert.ok(npmRow);
  const alert = buildAlert(npmRow.record, {
    project: 'shared',
    version: '1.0',
    ecosystem: 'npm',
    dashboardUrl: 'http://127.0.0.1:1/',
    downloads: null,
  });
  assert.ok(alert);
  assert.equal(alert.key, 'npm:shared@1.0:malicious');
  assert.equal(alert.ecosystem, 'npm');
  assert.equal(alert.url, null);
  assert.equal(await state.addAlerts(npmRow, [{ alert, destination: 'generic:x' }]), 1);
  assert.deepEqual(
    (await state.unscanned(10)).map((r) => r.ecosystem),
    ['pypi'],
    'only the npm release was scanned',
  );
  const due = await state.claimDue(['generic:x'], { leaseMs: 1000, limit: 5 });
  assert.equal(due[0]?.alert.ecosystem, 'npm');
}

test('SQLite: an npm package and a PyPI project of the same name coexist (store and watch state)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-ecosystem-'));
  try {
    const path = join(dir, 'store.db');
    const store = openSqliteStore(path);
    try {
      await prepare(store);
      for (const record of RECORDS) {
        const project = {
          ecosystem: record.package.ecosystem,
          project: 'shared',
          version: record.package.version ?? '',
        };
        assert.equal(await store.enqueue([project], { maxAttempts: 1 }), 1);
        const job = await store.claim('w', { leaseMs: 60_000 });
        assert.equal(job?.ecosystem, record.package.ecosystem);
        assert.ok(job);
        assert.ok(await store.complete(job.id, 'w', { record, facts: recordFacts(record), traces: [] }));
      }
      assert.equal(await store.enqueue([{ project: 'shared', version: '1.0' }], { maxAttempts: 1 }), 0);
      check(await observe(store));
      const state = openSqliteWatchState(path);
      try {
        await watchStateCoexists(state);
      } finally {
        await state.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SQLite: a store of the previous schema migrates, its rows become PyPI, nothing is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-ecosystem-migrate-'));
  try {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.pragma('foreign_keys = ON');
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 4)) {
      old.exec(migration.sql);
      old
        .prepare('INSERT INTO schema_migrations VALUES (?, ?)')
        .run(migration.version, '2024-01-01T00:00:00Z');
    }
    const record = makeRecord('legacy', '1.0');
    old.exec(`
      INSERT INTO projects (normalized, name, synced_at) VALUES ('legacy', 'Legacy', '2024-01-01');
      INSERT INTO releases (project, version, upload_time, files) VALUES ('legacy', '1.0', '2024-01-01', '[]');
      INSERT INTO jobs (id, project, version, state, max_attempts, run_after, created_at, updated_at)
        VALUES (7, 'legacy', '1.0', 'done', 1, '2024-01-01', '2024-01-01', '2024-01-01');
      INSERT INTO jobs (id, project, version, state, max_attempts, run_after, created_at, updated_at)
        VALUES (8, 'legacy', '0.9', 'pending', 1, '2024-01-01', '2024-01-01', '2024-01-01');
      INSERT INTO watch_releases (project, version, source, seen_at) VALUES ('legacy', '1.0', 'rss', '2024-01-01');
    `);
    old
      .prepare(
        `INSERT INTO results (job_id, project, version, run_id, finished_at, stored_at, connected_out, ran_commands,
           canary_hits, record, traces) VALUES (7, 'legacy', '1.0', 'r', '2024-01-01', '2024-01-01', 1, 0, 0, ?, '[]')`,
      )
      .run(JSON.stringify(record));
    old.exec(`INSERT INTO result_connections (result_id, phase, protocol, ip, port, host)
      VALUES (1, 'install', 'tcp', '127.53.0.1', 443, 'c2.example')`);
    old.close();

    const store = openSqliteStore(path);
    try {
      assert.equal((await store.getRecord('legacy'))?.package.name, 'legacy');
      assert.equal(await store.getRecord('legacy', undefined, { ecosystem: 'npm' }), null);
      assert.deepEqual(await store.selectProjects({}), ['legacy']);
      assert.deepEqual(
        (await store.listReleases('legacy')).map((r) => [r.ecosystem, r.version]),
        [['pypi', '1.0']],
      );
      assert.deepEqual(await store.jobCounts(), { pending: 1, running: 0, done: 1, failed: 0 });
      const job = await store.claim('w', { leaseMs: 1000 });
      assert.deepEqual([job?.id, job?.ecosystem, job?.version], [8, 'pypi', '0.9'], 'job ids are kept');
      assert.deepEqual(await store.query('connected'), [
        {
          ecosystem: 'pypi',
          project: 'legacy',
          version: '1.0',
          host: 'c2.example',
          ip: '127.53.0.1',
          port: 443,
          protocol: 'tcp',
        },
      ]);
      const state = openSqliteWatchState(path);
      try {
        assert.deepEqual(
          (await state.unscanned(5)).map((r) => `${r.ecosystem}:${r.project}`),
          ['pypi:legacy'],
        );
      } finally {
        await state.close();
      }
    } finally {
      await store.close();
    }
    const after = new Database(path, { readonly: true });
    try {
      assert.deepEqual(after.pragma('foreign_key_check'), []);
      const applied = after.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(
        applied,
        MIGRATIONS.map((m) => m.version),
      );
    } finally {
      after.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: the same coexistence, through the results of two job keys', {
  timeout: 120_000,
}, async () => {
  const server = await startTestPostgres();
  try {
    const store = await openPostgresStore(server.url);
    try {
      await prepare(store);
      for (const record of RECORDS) {
        const target = {
          name: 'shared',
          version: record.package.version,
          ...(record.package.ecosystem === 'npm' ? { ecosystem: 'npm' as const } : {}),
        };
        assert.deepEqual(
          await store.storeResult(target, { record, facts: recordFacts(record), traces: [] }),
          {
            stored: true,
          },
        );
      }
      assert.equal(await store.hasResult('npm:shared==1.0'), true);
      assert.equal(await store.hasResult('shared==1.0'), true);
      assert.equal(await store.hasResult('shared==2.0'), false);
      check(await observe(store));
      const state = await openPostgresWatchState(server.url);
      try {
        await watchStateCoexists(state);
      } finally {
        await state.close();
      }
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
  }
});
