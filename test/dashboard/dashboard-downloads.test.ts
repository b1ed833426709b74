/**
 * Download counts on the package page: a local stats API (pypistats-compatible shapes) on
 * loopback, the real dashboard (`startDashboard`: real store, real HTTP) and the in-memory cache
 * with its TTL and bounded wait.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { createDownloadsLookup } from '../../src/app/dashboard-downloads.ts';
import { type RunningDashboard, startDashboard } from '../../src/app/serve.ts';
import { loadConfig } from '../../src/config.ts';
import { fillStore } from './fill-store.ts';

/** No provider from the environment the tests run in: each test configures what it needs. */
const UNSET = { PKGHUNT_STATS_URL: '', PKGHUNT_GCP_PROJECT: '', GOOGLE_APPLICATION_CREDENTIALS: '' };

const recent = (name: string, month: number) => ({
  data: { last_day: 1, last_week: 2, last_month: month },
  package: name,
  type: 'recent_downloads',
});

describe('download counts on the package page (local stats API on loopback)', () => {
  let stats: FastifyInstance;
  let base = '';
  let dir = '';
  let db = '';
  const hits = new Map<string, number>();
  let releaseSlow: () => void = () => {};
  const slowAnswered = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });

  before(async () => {
    stats = Fastify();
    stats.addHook('onRequest', async (req) => {
      const path = req.url.split('?')[0] ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
    });
    stats.get('/stats/api/packages/ph-evil/recent', async () => recent('ph-evil', 6789));
    // Answers only once the test lets it: the page must not wait for it.
    stats.get('/stats/api/packages/ph-thief/recent', async () => {
      await slowAnswered;
      return recent('ph-thief', 42);
    });
    stats.get('/stats/api/packages/ph-quiet/recent', async (_req, reply) =>
      reply.code(503).header('Retry-After', '0').send('maintenance <b>down</b>'),
    );
    await stats.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(stats.server.address() as AddressInfo).port}/stats`;
    dir = await mkdtemp(join(tmpdir(), 'pkghunt-dl-'));
    db = join(dir, 'store.db');
    await fillStore(db);
  });

  after(async () => {
    releaseSlow();
    await stats.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(env: NodeJS.ProcessEnv, waitMs = 400): Promise<RunningDashboard> {
    return startDashboard({
      db,
      config: loadConfig({ ...process.env, ...UNSET, ...env }),
      host: '127.0.0.1',
      port: 0,
      token: null,
      indexUrl: 'file:///nonexistent/simple/',
      downloads: { waitMs, statsRetries: 0, statsBaseDelayMs: 10, statsTimeoutMs: 5000 },
    });
  }

  async function downloadsLine(url: string): Promise<string> {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const body = await res.text();
    const line = /<span id="downloads" class="downloads downloads-(known|unknown)">([^<]*)<\/span>/.exec(
      body,
    );
    assert.ok(line, 'the page has a downloads line');
    return `${line[1]}: ${line[2]}`;
  }

  test('the count, its window and its provider; asked once, then served from memory', async () => {
    const dashboard = await serve({ PKGHUNT_STATS_URL: base });
    try {
      const line = await downloadsLine(`${dashboard.url}/package/ph-evil/1.0.0`);
      assert.match(line, /^known: 6,789 over the last 30 days/);
      assert.match(line, /from the stats API at 127\.0\.0\.1:\d+ \(stats-api\)/);
      await downloadsLine(`${dashboard.url}/package/ph-evil/1.0.0`);
      assert.equal(hits.get('/stats/api/packages/ph-evil/recent'), 1, 'the second view is cached');
      const api = (await (await fetch(`${dashboard.url}/api/downloads/PH_Evil`)).json()) as {
        known: boolean;
        count: number;
        provider: string;
        days: number;
      };
      assert.deepEqual([api.known, api.count, api.provider, api.days], [true, 6789, 'stats-api', 30]);
    } finally {
      await dashboard.close();
    }
  });

  test('a slow provider does not hold the page: unknown first, the count once it answered', async () => {
    const dashboard = await serve({ PKGHUNT_STATS_URL: base }, 300);
    try {
      const started = Date.now();
      const first = await downloadsLine(`${dashboard.url}/package/ph-thief/2.0`);
      assert.ok(Date.now() - started < 3000, 'the page came after the wait, not after the provider');
      assert.match(
        first,
        /^unknown: unknown \(no answer within 0\.3 s; still asking, reload the page later\)/,
      );
      assert.match(first, /provider: the stats API at 127\.0\.0\.1/);
      releaseSlow();
      // The lookup went on in the background and its answer is kept for the next view.
      let line = first;
      for (let i = 0; i < 50 && line.startsWith('unknown'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        line = await downloadsLine(`${dashboard.url}/package/ph-thief/2.0`);
      }
      assert.match(line, /^known: 42 over the last 30 days/);
      assert.equal(hits.get('/stats/api/packages/ph-thief/recent'), 1, 'one request for every view');
    } finally {
      await dashboard.close();
    }
  });

  test('a failing provider says why (escaped), and is not asked again at once', async () => {
    const dashboard = await serve({ PKGHUNT_STATS_URL: base });
    try {
      const line = await downloadsLine(`${dashboard.url}/package/ph-quiet/2.0`);
      assert.match(line, /^unknown: unknown \(DOWNLOADS_UNAVAILABLE: .*HTTP 503/);
      await downloadsLine(`${dashboard.url}/package/ph-quiet/2.0`);
      assert.equal(hits.get('/stats/api/packages/ph-quiet/recent'), 1, 'the failure is kept for a while');
    } finally {
      await dashboard.close();
    }
  });

  test('no provider configured: the page says what to set, and nothing is asked', async () => {
    const before = [...hits.values()].reduce((a, b) => a + b, 0);
    const dashboard = await serve({});
    try {
      const line = await downloadsLine(`${dashboard.url}/package/ph-evil/1.0.0`);
      assert.match(
        line,
        /^unknown: unknown \(no download-statistics provider is configured \(set PKGHUNT_STATS_URL/,
      );
    } finally {
      await dashboard.close();
    }
    assert.equal(
      [...hits.values()].reduce((a, b) => a + b, 0),
      before,
    );
  });

  test('the cache keeps a count for its TTL, then asks again; npm projects are not looked up', async () => {
    let clock = 1_000_000;
    const lookup = createDownloadsLookup({
      config: loadConfig({ ...process.env, ...UNSET, PKGHUNT_STATS_URL: base }),
      ttlMs: 60_000,
      statsRetries: 0,
      now: () => clock,
    });
    const hitsBefore = hits.get('/stats/api/packages/ph-evil/recent') ?? 0;
    const first = await lookup('ph-evil', 'pypi');
    assert.equal(first.known && first.count, 6789);
    clock += 59_000;
    await lookup('PH.Evil', 'pypi');
    assert.equal(hits.get('/stats/api/packages/ph-evil/recent'), hitsBefore + 1, 'within the TTL');
    clock += 2_000;
    await lookup('ph-evil', 'pypi');
    assert.equal(hits.get('/stats/api/packages/ph-evil/recent'), hitsBefore + 2, 'after the TTL');
    const npm = await lookup('left-pad', 'npm');
    assert.equal(npm.known, false);
    assert.match(npm.known ? '' : npm.reason, /PyPI projects only/);
  });
});
