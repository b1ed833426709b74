/**
 * Triage decisions feed the detection without a manual step: decisions posted to the dashboard
 * (real HTTP, real SQLite store) change how the hunt's job pool scores the releases it stores
 * next (false positives dismissed for the same behaviour of the same project only) and what the
 * population counts (releases confirmed malicious left out).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadAllowlist } from '../../src/adapters/detect/load-allowlist.ts';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { runJobPool } from '../../src/app/job-pool.ts';
import { openStore } from '../../src/app/open-store.ts';
import { populationFromStore } from '../../src/app/population-from-store.ts';
import { type RunningDashboard, startDashboard } from '../../src/app/serve.ts';
import { createTriageBaselineCache, readStoreDecisions } from '../../src/app/triage-feed.ts';
import { loadConfig } from '../../src/config.ts';
import type { Allowlist } from '../../src/core/detect/allowlist.ts';
import { evaluateRecord } from '../../src/core/detect/evaluate-record.ts';
import type { BehaviourRecord } from '../../src/core/record/schema.ts';
import { makeRecord } from '../store/make-record.ts';
import { storeRecord } from './fill-store.ts';

const TOKEN = 'feed-test-token-0123456789abcdef';
const BY = [{ kind: 'package' as const, distribution: 'x', method: 'process-tree' as const }];

/** A release that connects to each host (port 443) while it installs, scored as `analyze` would. */
function release(name: string, version: string, hosts: string[], allowlist: Allowlist): BehaviourRecord {
  const record = makeRecord(name, version, {
    connections: hosts.map((host, i) => ({
      protocol: 'tcp' as const,
      ip: `127.53.0.${i + 1}`,
      port: 443,
      hostname: host,
      sent_bytes: 3,
      sent_preview: 'GET',
      http: null,
      tls_sni: host,
      time: 0.5,
      pids: [7],
      by: BY,
    })),
  });
  return { ...record, verdict: evaluateRecord(record, { allowlist }) };
}

describe('triage decisions feed the scoring of the next releases (real store, real HTTP)', () => {
  let dir = '';
  let db = '';
  let allowlist: Allowlist;
  let dashboard: RunningDashboard;

  before(async () => {
    allowlist = await loadAllowlist();
    dir = await mkdtemp(join(tmpdir(), 'pkghunt-feed-'));
    db = join(dir, 'store.db');
    const seed = openSqliteStore(db);
    await seed.migrate();
    await storeRecord(seed, release('ph-feed', '1.0', ['telemetry.feed.example'], allowlist));
    await storeRecord(seed, release('ph-campaign', '1.0', ['collector.example'], allowlist));
    await seed.close();
    dashboard = await startDashboard({
      db,
      config: loadConfig(),
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      indexUrl: 'file:///nonexistent/simple/',
    });
  });

  after(async () => {
    await dashboard?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function decide(payload: object): Promise<void> {
    const res = await fetch(`${dashboard.url}/api/triage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(payload),
    });
    assert.equal(res.status, 201, await res.text());
  }

  test('a false positive dismisses that behaviour of that project in the releases hunted next', async () => {
    const v1 = release('ph-feed', '1.0', ['telemetry.feed.example'], allowlist);
    assert.equal(v1.verdict?.findings.find((f) => f.rule === 'net.outbound')?.points, 15, 'scored before');
    await decide({
      project: 'ph-feed',
      version: '1.0',
      rule: 'net.outbound',
      label: 'false_positive',
      comment: 'its own telemetry endpoint',
      analyst: 'ana',
    });
    await decide({ project: 'ph-campaign', version: '1.0', label: 'confirmed_malicious', analyst: 'ana' });

    // The hunt's job pool (the sandbox replaced by prepared records) over the store as `hunt` opens it.
    const analysed: Record<string, BehaviourRecord> = {
      'ph-feed==2.0': release('ph-feed', '2.0', ['telemetry.feed.example'], allowlist),
      'ph-feed==3.0': release('ph-feed', '3.0', ['telemetry.feed.example', 'paste.example'], allowlist),
      'ph-other==1.0': release('ph-other', '1.0', ['telemetry.feed.example'], allowlist),
    };
    const { store, traceDir } = await openStore(db, loadConfig());
    try {
      await store.enqueue(
        Object.keys(analysed).map((key) => {
          const [project = '', version = ''] = key.split('==');
          return { project, version };
        }),
        { maxAttempts: 1 },
      );
      await runJobPool(store, {
        config: loadConfig(),
        indexUrl: 'file:///nonexistent/simple/',
        workers: 1,
        leaseMs: 60_000,
        retryBaseMs: 10,
        traceDir,
        keepTraces: 'none',
        signal: new AbortController().signal,
        doneWhenIdle: () => true,
        onFatal: (error) => assert.fail(error.message),
        analyze: async (requested) => {
          const record = analysed[requested];
          assert.ok(record, `unexpected job ${requested}`);
          return record;
        },
      });
      const outbound = async (name: string, version: string) =>
        (await store.getRecord(name, version))?.verdict?.findings.find((f) => f.rule === 'net.outbound');
      const same = await outbound('ph-feed', '2.0');
      assert.equal(same?.points, 0);
      assert.match(same?.dismissed ?? '', /false positive in triage \(#\d+ on 1\.0 by ana\)/);
      assert.equal((await store.getRecord('ph-feed', '2.0'))?.verdict?.score, 0);
      const newHost = await outbound('ph-feed', '3.0');
      assert.equal(newHost?.dismissed, undefined, 'a new destination keeps its weight');
      assert.ok((newHost?.points ?? 0) > 0);
      assert.equal(
        (await outbound('ph-other', '1.0'))?.dismissed,
        undefined,
        'another project is not covered',
      );

      // The confirmed-malicious release does not count in the population (a plain store: it does).
      const fed = await populationFromStore(store, { popularFile: '/nonexistent/popular.json' });
      const plain = openSqliteStore(db);
      try {
        const unfed = await populationFromStore(plain, { popularFile: '/nonexistent/popular.json' });
        assert.equal(unfed.packages, 3);
        assert.equal(fed.packages, 2);
        assert.equal(unfed.share('host', 'collector.example').packages, 1);
        assert.equal(fed.share('host', 'collector.example').packages, 0);
      } finally {
        await plain.close();
      }
    } finally {
      await store.close();
    }

    // The package page says why the finding added nothing.
    const page = await (await fetch(`${dashboard.url}/package/ph-feed/2.0`)).text();
    assert.match(page, /<small class="dismissed">dismissed: same behaviour marked a false positive/);
  });

  test('decisions are read again after the refresh interval, not on every job', async () => {
    let clock = 0;
    let reads = 0;
    const store = openSqliteStore(db);
    try {
      const baseline = createTriageBaselineCache(
        async () => {
          reads++;
          return readStoreDecisions({ sqlite: db });
        },
        store,
        { ttlMs: 60_000, now: () => clock },
      );
      const first = await baseline();
      await baseline();
      assert.equal(reads, 1);
      await decide({ project: 'ph-other', version: '1.0', label: 'false_positive' });
      clock += 60_001;
      const next = await baseline();
      assert.equal(reads, 2);
      assert.ok(next.dismissals > first.dismissals, 'the new false positive is in the next baseline');
    } finally {
      await store.close();
    }
  });

  test('an unreadable decisions table scores as before instead of failing the job', async () => {
    const warnings: string[] = [];
    const store = openSqliteStore(db);
    try {
      const baseline = createTriageBaselineCache(
        async () => {
          throw new Error('no such table: triage_decisions');
        },
        store,
        { onWarning: (message) => warnings.push(message) },
      );
      assert.equal((await baseline()).dismissals, 0);
      assert.match(warnings[0] ?? '', /Cannot read the triage decisions: .*no such table/);
    } finally {
      await store.close();
    }
  });
});
