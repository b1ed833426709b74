import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DEMO_INDEX_URL } from '../helpers/run-cli.ts';
import { startFeedServer, startWebhookReceiver } from './feed-server.ts';
import { startWatcher } from './watcher.ts';

test('watch over the demo index: SIGKILL mid-analysis and restart, each release analysed once, each alert delivered once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-watch-test-'));
  // ph-demo-ci-exfil arrives as a new release, ph-demo-pure as a new project (its page gives the version).
  const feeds = await startFeedServer({
    releases: [{ name: 'ph-demo-ci-exfil', version: '1.0.0', published: new Date().toISOString() }],
    projects: [{ name: 'ph-demo-pure', published: new Date().toISOString() }],
    lastSerial: 7,
  });
  // The first three deliveries fail on purpose (HTTP 500): the outbox retries them.
  const receiver = await startWebhookReceiver({ failFirst: 3 });
  t.after(async () => {
    await feeds.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });
  const db = join(dir, 'watch.db');
  const args = [
    '--db',
    db,
    '--index-url',
    DEMO_INDEX_URL,
    '--feed-url',
    `${feeds.base}/rss/updates.xml`,
    '--packages-feed-url',
    `${feeds.base}/rss/packages.xml`,
    '--changelog-url',
    `${feeds.base}/pypi`,
    '--interval',
    '500ms',
    '--workers',
    '1',
    '--tracer',
    'strace',
    '--phases',
    'install',
    '--timeout',
    '120',
    '--lease-seconds',
    '3',
    '--alert-retry',
    '200ms',
    '--webhook',
    `${receiver.url}/generic`,
    '--slack-webhook',
    `${receiver.url}/slack`,
    '--dashboard-url',
    'http://127.0.0.1:1/dash',
  ];
  const first = startWatcher(args);
  await first.waitFor((e) => e.type === 'job-start', 'the first analysis started', 180_000);
  first.child.kill('SIGKILL');
  await first.exited;

  const second = startWatcher(args);
  t.after(() => second.child.kill('SIGKILL'));
  await second.waitFor(() => receiver.accepted.length >= 2, 'both alerts delivered', 400_000);
  // Both releases analysed (the clean one too) before stopping.
  await second.waitFor(
    (_e, all) =>
      all.filter((e) => e.type === 'job-end' && e.outcome === 'done').length >= 1 && countResults(db) === 2,
    'both analysed',
    400_000,
  );
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr());

  const conn = new Database(db, { readonly: true });
  try {
    const results = conn
      .prepare('SELECT project, version, verdict_level AS level FROM results ORDER BY project')
      .all();
    assert.deepEqual(results, [
      { project: 'ph-demo-ci-exfil', version: '1.0.0', level: 'malicious' },
      { project: 'ph-demo-pure', version: '1.0.0', level: 'clean' },
    ]);
    const outbox = conn.prepare('SELECT alert_key, state FROM alert_outbox ORDER BY destination').all();
    assert.deepEqual(outbox, [
      { alert_key: 'ph-demo-ci-exfil==1.0.0:malicious', state: 'sent' },
      { alert_key: 'ph-demo-ci-exfil==1.0.0:malicious', state: 'sent' },
    ]);
  } finally {
    conn.close();
  }
  // Exactly once at the receiver, by Idempotency-Key: one alert per destination, each answered 2xx once.
  assert.equal(receiver.accepted.length, 2);
  for (const key of receiver.accepted)
    assert.equal(receiver.okCount.get(key), 1, `key ${key} delivered once`);
  assert.equal(
    receiver.received.filter((r) => r.status === 500).length,
    3,
    'the failed deliveries were retried',
  );
  const generic = receiver.received.find((r) => r.status === 200 && r.path === '/generic')?.body as {
    type: string;
    alert: {
      project: string;
      level: string;
      url: string;
      findings: { rule: string; evidence: unknown[] }[];
      downloads: null;
    };
  };
  assert.equal(generic.type, 'pkghunt.alert');
  assert.equal(generic.alert.project, 'ph-demo-ci-exfil');
  assert.equal(generic.alert.level, 'malicious');
  assert.equal(generic.alert.url, 'http://127.0.0.1:1/dash/package/ph-demo-ci-exfil/1.0.0');
  assert.equal(generic.alert.downloads, null);
  assert.ok(generic.alert.findings.some((f) => f.rule === 'canary.exfil' && f.evidence.length > 0));
  const slack = receiver.received.find((r) => r.status === 200 && r.path === '/slack')?.body as {
    text: string;
    blocks: { type: string }[];
  };
  assert.match(slack.text, /malicious ph-demo-ci-exfil==1\.0\.0/);
  assert.ok(slack.blocks.length >= 2);
  const queuedEvents = [...first.events, ...second.events].filter((e) => e.type === 'release-queued');
  assert.deepEqual(queuedEvents.map((e) => `${e.project}==${e.version}:${e.source}`).sort(), [
    'ph-demo-ci-exfil==1.0.0:rss',
    'ph-demo-pure==1.0.0:new-project',
  ]);
});

function countResults(db: string): number {
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.prepare('SELECT COUNT(*) AS n FROM results').get() as { n: number }).n;
  } finally {
    conn.close();
  }
}
