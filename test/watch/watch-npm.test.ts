import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { NPM_FIXTURES_DIR, publishNpmPackage } from '../../demo/build-npm-registry.ts';
import { startNpmRegistryServer } from '../helpers/npm-registry-server.ts';
import { startWebhookReceiver } from './feed-server.ts';
import { startWatcher } from './watcher.ts';

function count(db: string, sql: string): number {
  const conn = new Database(db, { readonly: true });
  try {
    return (conn.prepare(sql).get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

test('watch --ecosystem npm: a watchlist over a loopback registry, restart-safe, alerts on a malicious new version', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-watch-npm-'));
  const registry = join(dir, 'registry');
  const fixture = (name: string): string => join(NPM_FIXTURES_DIR, name);
  await publishNpmPackage(registry, fixture('ph-npm-util'));
  await publishNpmPackage(registry, fixture('ph-npm-pure'));
  const server = await startNpmRegistryServer(registry);
  const receiver = await startWebhookReceiver({ failFirst: 1 });
  t.after(async () => {
    await server.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });
  const watchlist = join(dir, 'watchlist.txt');
  // ph-npm-newcomer does not exist yet: watched for when it appears.
  await writeFile(watchlist, 'ph-npm-pure\nph-npm-newcomer\n');
  const db = join(dir, 'watch.db');
  const args = [
    '--ecosystem',
    'npm',
    '--registry',
    server.url,
    '--from',
    watchlist,
    '--db',
    db,
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
  ];

  // First start: the watched package's current latest is the baseline, analysed once.
  const first = startWatcher(args);
  t.after(() => first.child.kill('SIGKILL'));
  await first.waitFor(
    (e) => e.type === 'job-end' && e.project === 'ph-npm-pure' && e.outcome === 'done',
    'the baseline analysed',
    240_000,
  );
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.stderr());

  // Restart: nothing is queued again; then two releases are published while it runs.
  const second = startWatcher(args);
  t.after(() => second.child.kill('SIGKILL'));
  await second.waitFor((e) => e.type === 'feed-polled', 'the first poll after the restart', 60_000);
  const now = new Date().toISOString();
  // A new version of the benign package carrying the token stealer (a hijacked release).
  await publishNpmPackage(registry, fixture('ph-npm-tokensteal'), {
    name: 'ph-npm-pure',
    version: '1.1.0',
    published: now,
  });
  await publishNpmPackage(registry, fixture('ph-npm-util'), {
    name: 'ph-npm-newcomer',
    version: '0.1.0',
    published: now,
  });
  await second.waitFor(() => receiver.accepted.length >= 1, 'the alert delivered', 400_000);
  await second.waitFor(
    () => count(db, 'SELECT COUNT(*) AS n FROM results') === 3,
    'the newcomer analysed too',
    400_000,
  );
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr());

  const queued = (events: typeof first.events): string[] =>
    events.filter((e) => e.type === 'release-queued').map((e) => `${e.ecosystem}:${e.project}@${e.version}`);
  assert.deepEqual(queued(first.events), ['npm:ph-npm-pure@1.0.0']);
  assert.deepEqual(queued(second.events).sort(), ['npm:ph-npm-newcomer@0.1.0', 'npm:ph-npm-pure@1.1.0']);

  const conn = new Database(db, { readonly: true });
  try {
    assert.deepEqual(
      conn
        .prepare(
          'SELECT ecosystem, project, version, verdict_level AS level FROM results ORDER BY project, version',
        )
        .all(),
      [
        { ecosystem: 'npm', project: 'ph-npm-newcomer', version: '0.1.0', level: 'clean' },
        { ecosystem: 'npm', project: 'ph-npm-pure', version: '1.0.0', level: 'clean' },
        { ecosystem: 'npm', project: 'ph-npm-pure', version: '1.1.0', level: 'malicious' },
      ],
    );
    assert.deepEqual(conn.prepare('SELECT alert_key, ecosystem, state FROM alert_outbox').all(), [
      { alert_key: 'npm:ph-npm-pure@1.1.0:malicious', ecosystem: 'npm', state: 'sent' },
    ]);
    assert.deepEqual(conn.prepare('SELECT DISTINCT ecosystem, source FROM watch_releases').all(), [
      { ecosystem: 'npm', source: 'npm-packument' },
    ]);
  } finally {
    conn.close();
  }
  assert.equal(receiver.okCount.get(receiver.accepted[0] ?? ''), 1, 'delivered once');
  assert.equal(
    receiver.received.filter((r) => r.status === 500).length,
    1,
    'the failed delivery was retried',
  );
  const body = receiver.received.find((r) => r.status === 200)?.body as {
    alert: {
      ecosystem: string;
      project: string;
      version: string;
      level: string;
      findings: { rule: string }[];
    };
  };
  assert.deepEqual(
    [body.alert.ecosystem, body.alert.project, body.alert.version, body.alert.level],
    ['npm', 'ph-npm-pure', '1.1.0', 'malicious'],
  );
  assert.ok(body.alert.findings.some((f) => f.rule === 'canary.exfil'));
  // Only package documents of the watchlist were asked for (and tarballs by the analyses).
  assert.ok(
    server.requests.every((r) => /^\/(ph-npm-pure|ph-npm-newcomer|ph-npm-util)(\/-\/[\w.-]+\.tgz)?$/.test(r)),
    server.requests.filter((r) => !/^\/ph-npm-/.test(r)).join(', '),
  );
});
