import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildDashboardServer } from '../../src/adapters/dashboard/server.ts';
import { loadAllowlist } from '../../src/adapters/detect/load-allowlist.ts';
import { openPostgresStore, type PostgresStore } from '../../src/adapters/store/postgres-store.ts';
import { openPostgresDashboardStore } from '../../src/adapters/store/triage-postgres.ts';
import { enrichRecord } from '../../src/app/enrich-record.ts';
import { readStoreDecisions, withTriageFeed } from '../../src/app/triage-feed.ts';
import { recordFacts } from '../../src/core/behaviour/record-facts.ts';
import { evaluateRecord } from '../../src/core/detect/evaluate-record.ts';
import type { BehaviourRecord } from '../../src/core/record/schema.ts';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { makeRecord } from '../store/make-record.ts';
import { cleanRecord, hostileRecord, maliciousRecord } from './fill-store.ts';

const TOKEN = 'pg-test-token-0123456789abcdef';
let pgServer: TestPostgres;
let store: PostgresStore;

/** Stores the records through pg-boss as workers do (enqueue, work, complete). */
async function storeAll(target: PostgresStore, records: BehaviourRecord[]): Promise<void> {
  const byKey = new Map(records.map((r) => [`${r.package.name}==${r.package.version}`, r]));
  await target.enqueue(records.map((r) => ({ name: r.package.name, version: r.package.version })));
  let left = records.length;
  await new Promise<void>((resolve, reject) => {
    void target.work(1, async (job) => {
      const record = byKey.get(job.key);
      if (record === undefined) return reject(new Error(`unexpected job ${job.key}`));
      await target.complete(job, { record, facts: recordFacts(record), traces: [] });
      if (--left === 0) resolve();
    });
  });
}

before(async () => {
  pgServer = await startTestPostgres();
  store = await openPostgresStore(pgServer.url, { pollingIntervalSeconds: 0.5 });
  await storeAll(store, [cleanRecord('ph-quiet'), hostileRecord(), maliciousRecord('1.0', 'old.example')]);
  await storeAll(store, [maliciousRecord('2.0', 'new-collector.example')]);
});

after(async () => {
  await store?.stop({ drainMs: 1000 });
  await pgServer?.stop();
});

test('the dashboard reads, filters, searches and stores decisions on PostgreSQL as on SQLite', async () => {
  const dashboard = await openPostgresDashboardStore(pgServer.url);
  const app = await buildDashboardServer({ results: store, dashboard, source: 'pg', token: TOKEN });
  try {
    const names = async (query: string) =>
      (await app.inject({ url: `/api/triage?${query}` }))
        .json()
        .entries.map((e: { project: string; version: string }) => `${e.project} ${e.version}`);
    assert.deepEqual(await names(''), ['ph-thief 2.0', 'ph-thief 1.0', 'ph-evil 1.0.0']);
    assert.deepEqual(await names('rule=exec.shell'), ['ph-evil 1.0.0']);
    assert.deepEqual(await names('host=old.example'), ['ph-thief 1.0']);
    assert.deepEqual(await names('level=suspicious'), ['ph-evil 1.0.0']);
    const find = async (kind: string, q: string) =>
      (await app.inject({ url: `/api/search?kind=${kind}&q=${encodeURIComponent(q)}` }))
        .json()
        .results.map((r: { project: string }) => r.project);
    assert.deepEqual(await find('package', 'QUIET'), ['ph-quiet']);
    assert.deepEqual(await find('host', 'collector'), ['ph-thief']);
    assert.deepEqual(await find('dns', 'evil.ex'), ['ph-evil']);
    assert.deepEqual(await find('command', '<script>'), ['ph-evil']);
    assert.deepEqual(await find('path', '<b>xss'), ['ph-evil']);
    assert.deepEqual(await find('path', '100%'), []);

    const posted = await app.inject({
      method: 'POST',
      url: '/api/triage',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { project: 'ph-thief', version: '2.0', label: 'confirmed_malicious', comment: 'c2' },
    });
    assert.equal(posted.statusCode, 201, posted.body);
    assert.equal(posted.json().decision.resultId > 0, true);
    assert.deepEqual(await names('decision=confirmed_malicious'), ['ph-thief 2.0']);
    assert.equal((await app.inject({ url: '/api/packages/ph-thief/2.0/report-draft' })).statusCode, 200);
    const page = await app.inject({ url: '/package/ph-evil/1.0.0' });
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;'));

    const overviewRes = await app.inject({ url: '/api/overview' });
    const overview = overviewRes.json();
    assert.ok(overview.report, overviewRes.body);
    assert.equal(overview.report.packages, 4);
    const latest = overview.latestId;
    assert.equal((await dashboard.resultsAfter(latest - 1, 10)).length, 1);
    assert.deepEqual(
      (await dashboard.verdictCounts()).map((v) => [v.level, v.packages]),
      [
        ['malicious', 2],
        ['clean', 1],
        ['suspicious', 1],
      ],
    );
  } finally {
    await app.close();
    await dashboard.close();
  }
});

test("a worker's store reads the decisions on PostgreSQL: a false positive is dismissed in the next release", async () => {
  const allowlist = await loadAllowlist();
  const release = (version: string): BehaviourRecord => {
    const record = makeRecord('ph-pgfeed', version, {
      connections: [
        {
          protocol: 'tcp',
          ip: '127.53.0.9',
          port: 443,
          hostname: 'telemetry.pgfeed.example',
          sent_bytes: 3,
          sent_preview: 'GET',
          http: null,
          tls_sni: null,
          time: 0.5,
          pids: [7],
          by: [{ kind: 'package', distribution: 'ph-pgfeed', method: 'process-tree' }],
        },
      ],
    });
    return { ...record, verdict: evaluateRecord(record, { allowlist }) };
  };
  await storeAll(store, [release('1.0')]);
  const dashboard = await openPostgresDashboardStore(pgServer.url);
  const app = await buildDashboardServer({ results: store, dashboard, source: 'pg', token: TOKEN });
  try {
    const posted = await app.inject({
      method: 'POST',
      url: '/api/triage',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { project: 'ph-pgfeed', version: '1.0', rule: 'net.outbound', label: 'false_positive' },
    });
    assert.equal(posted.statusCode, 201, posted.body);
  } finally {
    await app.close();
    await dashboard.close();
  }
  // As `pkghunt worker` opens its store (src/cli/commands/worker.ts), then scores as runWorker does.
  const fed = withTriageFeed(store, () => readStoreDecisions({ postgres: pgServer.url }));
  const enriched = await enrichRecord(release('2.0'), { store: fed, population: null, allowlist });
  const outbound = enriched.verdict?.findings.find((f) => f.rule === 'net.outbound');
  assert.equal(outbound?.points, 0);
  assert.match(outbound?.dismissed ?? '', /false positive in triage \(#\d+ on 1\.0\)/);
});
