import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';
import { startFeedServer } from './feed-server.ts';
import { type Event, startWatcher } from './watcher.ts';

const t0 = Date.parse('2024-05-01T10:00:00Z');
const at = (minutes: number): string => new Date(t0 + minutes * 60_000).toISOString();

/** Releases of projects the demo index does not have: each job ends PACKAGE_NOT_FOUND without a sandbox. */
const rel = (name: string, minutes: number) => ({
  name: `ph-watch-${name}`,
  version: '1.0',
  published: at(minutes),
});

function queued(events: readonly Event[]): string[] {
  return events.filter((e) => e.type === 'release-queued').map((e) => `${e.project}==${e.version}`);
}

test('watch: file:// index without feed URLs and a bad interval are usage errors', async () => {
  const noFeed = await runCli([
    'watch',
    '--index-url',
    DEMO_INDEX_URL,
    '--db',
    '/nonexistent/x.db',
    '--json',
  ]);
  assert.equal(noFeed.code, 2);
  assert.equal((JSON.parse(noFeed.stdout) as { error: { code: string } }).error.code, 'FEED_UNSUPPORTED');
  const bad = await runCli([
    'watch',
    '--interval',
    'soon',
    '--index-url',
    'http://127.0.0.1:9/simple/',
    '--json',
  ]);
  assert.equal(bad.code, 2);
  assert.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'USAGE');
});

test('watch: duplicates, out-of-order items, malformed XML, an overflowed window filled from the changelog, SIGKILL and restart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-watch-test-'));
  const feeds = await startFeedServer({ releases: [rel('a', 1), rel('b', 2)], lastSerial: 100 });
  t.after(async () => {
    await feeds.close();
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
    '300ms',
    '--tracer',
    'strace',
    '--phases',
    'install',
    '--health-port',
    '0',
  ];
  const first = startWatcher(args);
  await first.waitFor((_e, all) => queued(all).length === 2, 'a and b queued');
  // The health endpoint answers on loopback with the status.
  const start = first.events.find((e) => e.type === 'watch-start');
  const health = (await (await fetch(`http://127.0.0.1:${start?.healthPort}/healthz`)).json()) as {
    seen: number;
  };
  assert.equal(health.seen, 2);

  feeds.set({ malformed: 1 });
  await first.waitFor(
    (e) => e.type === 'feed-error' && e.code === 'FEED_BAD_RESPONSE',
    'the malformed feed reported',
  );
  // c was published before b (out of order) and the window repeats b twice.
  feeds.set({ releases: [rel('a', 1), rel('c', 1.5), rel('b', 2), rel('b', 2)] });
  await first.waitFor((_e, all) => queued(all).includes('ph-watch-c==1.0'), 'c queued');

  // More releases than the window holds: the window shows only x and y, the changelog has w too.
  feeds.set({
    releases: [rel('x', 10), rel('y', 11)],
    changelog: [
      { ...rel('w', 9), action: 'new release', serial: 101 },
      { ...rel('x', 10), action: 'new release', serial: 102 },
      { ...rel('x', 10), action: 'add py3 file ph_watch_x-1.0-py3-none-any.whl', serial: 103 },
      { ...rel('y', 11), action: 'new release', serial: 104 },
      { ...rel('gone', 11), action: 'remove project', serial: 105 },
    ],
  });
  const gap = await first.waitFor((e) => e.type === 'feed-gap', 'the gap detected');
  assert.equal(gap.filledBy, 'changelog');
  await first.waitFor(
    (_e, all) => ['w', 'x', 'y'].every((n) => queued(all).includes(`ph-watch-${n}==1.0`)),
    'w, x, y queued',
  );
  await first.waitFor((e) => e.type === 'job-end' && e.code === 'PACKAGE_NOT_FOUND', 'an analysis attempted');
  first.child.kill('SIGKILL');
  await first.exited;
  assert.deepEqual(
    queued(first.events).sort(),
    ['a', 'b', 'c', 'w', 'x', 'y'].map((n) => `ph-watch-${n}==1.0`),
  );

  // Restarted: the stored positions mean nothing is queued again, and the changelog goes on from 105.
  const second = startWatcher(args);
  t.after(() => second.child.kill('SIGKILL'));
  let polls = 0;
  await second.waitFor(
    (e) => e.type === 'feed-polled' && String(e.source).startsWith('rss-releases') && ++polls === 3,
    'three polls',
  );
  assert.deepEqual(queued(second.events), [], 'a restart repeats nothing');
  assert.ok(feeds.requests.includes('since:105'), 'the changelog position survived the SIGKILL');
  feeds.set({ releases: [rel('x', 10), rel('y', 11), rel('z', 12)] });
  await second.waitFor((_e, all) => queued(all).includes('ph-watch-z==1.0'), 'z queued');
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.stderr());
  assert.ok(second.events.some((e) => e.type === 'watch-stopped'));

  const conn = new Database(db, { readonly: true });
  try {
    const seen = conn.prepare('SELECT project, version FROM watch_releases ORDER BY project').all() as {
      project: string;
    }[];
    assert.deepEqual(
      seen.map((r) => r.project),
      ['a', 'b', 'c', 'w', 'x', 'y', 'z'].map((n) => `ph-watch-${n}`),
    );
    const jobs = conn.prepare('SELECT project, COUNT(*) AS n FROM jobs GROUP BY project').all() as {
      n: number;
    }[];
    assert.equal(jobs.length, 7);
    assert.ok(jobs.every((j) => j.n === 1));
  } finally {
    conn.close();
  }
});
