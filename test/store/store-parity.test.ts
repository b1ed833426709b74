import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPostgresStore } from '../../src/adapters/store/postgres-store.ts';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { type ResultStore, STUDY_QUERIES } from '../../src/adapters/store/store.ts';
import { coordinateHunt } from '../../src/app/coordinate-hunt.ts';
import { enrichRecord } from '../../src/app/enrich-record.ts';
import { createPopulationCache } from '../../src/app/population-from-store.ts';
import { runWorker } from '../../src/app/run-worker.ts';
import { recordFacts } from '../../src/core/behaviour/record-facts.ts';
import type { BehaviourRecord } from '../../src/core/record/schema.ts';
import { startTestPostgres } from '../helpers/postgres.ts';
import { makeRecord } from './make-record.ts';

type Verdict = NonNullable<BehaviourRecord['verdict']>;

function withVerdict(record: BehaviourRecord, level: Verdict['level'], score: number): BehaviourRecord {
  return {
    ...record,
    verdict: { level, score, findings: [], static_files: null, population_adjusted: false },
  };
}

function records(): BehaviourRecord[] {
  const evil1 = makeRecord('evil', '1.0', {
    dns: [{ name: 'c2.example.', type: 'A', time: 0, answer: '127.53.0.1', server: null }],
    connections: [
      {
        protocol: 'tcp',
        ip: '127.53.0.1',
        port: 443,
        hostname: 'c2.example',
        sent_bytes: 10,
        sent_preview: '',
        http: null,
        tls_sni: null,
        time: 0,
        pids: [],
      },
    ],
    commands: [
      { argv: ['curl', 'http://c2.example'], cwd: null, pid: 2, ppid: 1, time: 0, exe: '/usr/bin/curl' },
    ],
  });
  return [
    withVerdict({ ...evil1, finished_at: '2024-01-01T00:00:01.000Z' }, 'malicious', 90),
    withVerdict({ ...makeRecord('evil', '2.0'), finished_at: '2024-06-01T00:00:01.000Z' }, 'suspicious', 40),
    withVerdict(makeRecord('meh', '1.0'), 'clean', 0),
    makeRecord('old', '0.1'),
  ];
}

/** As `hunt` does on SQLite: each record is enriched (scored again, diffed) right before it is stored. */
async function fillSqlite(store: ReturnType<typeof openSqliteStore>, all: BehaviourRecord[]): Promise<void> {
  const population = createPopulationCache(store);
  for (const analysed of all) {
    const record = await enrichRecord(analysed, { store, population: await population() });
    const version = record.package.version ?? '';
    await store.enqueue([{ project: record.package.name, version }], { maxAttempts: 1 });
    const job = await store.claim('w', { leaseMs: 60_000 });
    assert.ok(job);
    assert.equal(await store.complete(job.id, 'w', { record, facts: recordFacts(record), traces: [] }), true);
  }
}

async function fillPostgres(url: string, all: BehaviourRecord[]): Promise<void> {
  const options = { leaseSeconds: 30, retryLimit: 0, pollingIntervalSeconds: 0.5 };
  const coordinator = await openPostgresStore(url, options);
  const worker = await openPostgresStore(url, options);
  const controller = new AbortController();
  const running = runWorker(worker, {
    concurrency: 1,
    drainMs: 5000,
    signal: controller.signal,
    analyze: async (requested) => {
      const record = all.find((r) => r.package.requested === requested);
      assert.ok(record, requested);
      return { record, traces: [] };
    },
  });
  try {
    const counts = await coordinateHunt(
      coordinator,
      all.map((r) => ({ name: r.package.name, version: r.package.version })),
      { pollMs: 200 },
    );
    assert.equal(counts.done, all.length);
  } finally {
    controller.abort();
    await running;
    await coordinator.stop({ drainMs: 1000 });
  }
}

async function prepare(store: ResultStore): Promise<void> {
  await store.upsertProjects(
    ['evil', 'meh', 'old', 'other'].map((name) => ({ name, normalized: name, lastSerial: null })),
  );
  for (const [version, uploadTime] of [
    ['1.0', '2024-01-01T00:00:00Z'],
    ['2.0', '2024-06-01T00:00:00Z'],
  ] as const) {
    await store.upsertRelease({ project: 'evil', version, uploadTime, files: [], metadata: null });
  }
}

/** Everything a reader of the store sees, in a form that does not depend on row order. */
async function observe(store: ResultStore): Promise<Record<string, unknown>> {
  const sorted = (rows: unknown[]): string[] => rows.map((r) => JSON.stringify(r)).sort();
  const views: Record<string, string[]> = {};
  for (const name of STUDY_QUERIES) views[name] = sorted(await store.query(name));
  const versions = async (it: AsyncIterable<BehaviourRecord>): Promise<string[]> => {
    const out: string[] = [];
    for await (const r of it) out.push(`${r.package.name}==${r.package.version}`);
    return out.sort();
  };
  return {
    views,
    suspicious: await store.query('suspicious'),
    byGlob: await store.selectProjects({ match: 'e*' }),
    byNames: await store.selectProjects({ names: ['old', 'zzz', 'meh'] }),
    limited: await store.selectProjects({ limit: 2 }),
    since: (await store.listReleases('evil', { since: '2024-03-01' })).map((r) => r.version),
    latest: (await store.getRecord('evil'))?.package.version,
    previous: (await store.previousRecord('evil', '2.0'))?.package.version,
    firstHasNone: await store.previousRecord('evil', '1.0'),
    unknownVersion: (await store.previousRecord('evil', '3.0'))?.package.version,
    all: await versions(store.iterateRecords({ latestOnly: true })),
    exported: await versions(store.exportRecords()),
    future: await versions(store.exportRecords({ since: '2999-01-01' })),
    counts: await store.jobCounts(),
  };
}

test('SQLite and PostgreSQL give the same answers: views, selection, releases, records, previous release', {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-parity-'));
  const server = await startTestPostgres();
  try {
    const sqlite = openSqliteStore(join(dir, 'store.db'));
    let fromSqlite: Record<string, unknown>;
    try {
      await prepare(sqlite);
      await fillSqlite(sqlite, records());
      fromSqlite = await observe(sqlite);
    } finally {
      await sqlite.close();
    }
    const pg = await openPostgresStore(server.url);
    let fromPostgres: Record<string, unknown>;
    try {
      await prepare(pg);
      await fillPostgres(server.url, records());
      fromPostgres = await observe(pg);
    } finally {
      await pg.close();
    }
    assert.deepEqual(fromPostgres, fromSqlite);
    // And the answers are the right ones, not merely equal.
    // Both engines score the records again before storing them (the hand-written verdicts are
    // replaced): curl (exec.tool) and the connection out (net.outbound) make evil 1.0 suspicious,
    // evil 2.0 does nothing and is clean.
    assert.deepEqual(fromSqlite.suspicious, [
      {
        ecosystem: 'pypi',
        project: 'evil',
        version: '1.0',
        verdict_level: 'suspicious',
        verdict_score: 30,
        run_id: 'run-evil-1.0',
      },
    ]);
    assert.deepEqual(fromSqlite.byGlob, ['evil']);
    assert.deepEqual(fromSqlite.byNames, ['meh', 'old']);
    assert.deepEqual(fromSqlite.limited, ['evil', 'meh']);
    assert.deepEqual(fromSqlite.since, ['2.0']);
    assert.equal(fromSqlite.latest, '2.0');
    assert.equal(fromSqlite.previous, '1.0');
    assert.equal(fromSqlite.firstHasNone, null);
    assert.equal(fromSqlite.unknownVersion, '2.0');
    assert.deepEqual(fromSqlite.all, ['evil==1.0', 'evil==2.0', 'meh==1.0', 'old==0.1']);
    assert.deepEqual(fromSqlite.future, []);
    assert.deepEqual((fromSqlite.views as Record<string, string[]>).hosts, [
      JSON.stringify({ host: 'c2.example', port: 443, protocol: 'tcp', packages: 1 }),
    ]);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
