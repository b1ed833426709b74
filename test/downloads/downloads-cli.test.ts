import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { downloadCount } from '../../src/app/downloads.ts';
import { loadConfig } from '../../src/config.ts';
import { runCli } from '../helpers/run-cli.ts';

/** No provider from the environment the tests run in: each test configures what it needs. */
const UNSET = { PKGHUNT_STATS_URL: '', PKGHUNT_GCP_PROJECT: '', GOOGLE_APPLICATION_CREDENTIALS: '' };

let server: FastifyInstance;
let base = '';
const hits = new Map<string, number>();

// Shapes as a pypistats-compatible API answers (recorded field names, made-up numbers).
const RECENT = {
  data: { last_day: 12, last_week: 345, last_month: 6789 },
  package: 'good',
  type: 'recent_downloads',
};
const OVERALL = {
  package: 'good',
  type: 'overall_downloads',
  data: [
    { category: 'with_mirrors', date: '2024-06-08', downloads: 999 },
    { category: 'without_mirrors', date: '2024-06-07', downloads: 100 },
    { category: 'without_mirrors', date: '2024-06-08', downloads: 20 },
    { category: 'without_mirrors', date: '2024-06-09', downloads: 3 },
  ],
};

before(async () => {
  server = Fastify();
  server.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0] ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
  });
  server.get('/stats/api/packages/good/recent', async () => RECENT);
  server.get('/stats/api/packages/good/overall', async (req) => {
    assert.equal((req.query as { mirrors?: string }).mirrors, 'false');
    return OVERALL;
  });
  server.get('/stats/api/packages/missing/recent', async (_req, reply) =>
    reply.code(404).send({ message: 'Not Found' }),
  );
  server.get('/stats/api/packages/flaky/recent', async (_req, reply) => {
    if (hits.get('/stats/api/packages/flaky/recent') === 1) {
      return reply.code(429).header('Retry-After', '0').send({ message: 'slow down' });
    }
    return { ...RECENT, package: 'flaky' };
  });
  server.get('/stats/api/packages/broken/recent', async (_req, reply) =>
    reply.type('application/json').send('{"data": {"last_day": 1,'),
  );
  server.get('/stats/api/packages/wrongshape/recent', async () => ({
    data: { last_day: 'many' },
    package: 'x',
  }));
  server.get('/stats/api/packages/down/recent', async (_req, reply) =>
    reply.code(503).header('Retry-After', '0').send('maintenance'),
  );
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}/stats`;
});

after(async () => {
  await server.close();
});

async function downloads(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await runCli(['downloads', ...args, '--json'], { env: { ...UNSET, ...env } });
  return { ...result, body: JSON.parse(result.stdout) };
}

test('stats API: the last 30 days come from /recent, other periods are summed from /overall', async () => {
  const month = await downloads(['Good', '--stats-url', base]);
  assert.equal(month.code, 0, month.stderr);
  assert.equal(month.body.count, 6789);
  assert.equal(month.body.provider, 'stats-api');
  assert.equal(month.body.package, 'good');

  const three = await downloads(['good', '--days', '3', '--show-query'], { PKGHUNT_STATS_URL: base });
  assert.equal(three.code, 0, three.stderr);
  assert.equal(three.body.count, 123, 'without mirrors, last three days');
  assert.equal(three.body.to, '2024-06-09');
  assert.equal(three.body.query, `GET ${base}/api/packages/good/overall?mirrors=false`);

  const text = await runCli(['downloads', 'good', '--stats-url', base, '--days', '7'], { env: UNSET });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^good: 345 downloads in the last 7 days/);
});

test('stats API: 404 is PACKAGE_NOT_FOUND, 429 then 200 succeeds, bad JSON and 5xx are typed failures', async () => {
  const missing = await downloads(['missing', '--stats-url', base]);
  assert.equal(missing.code, 1);
  assert.equal(missing.body.error.code, 'PACKAGE_NOT_FOUND');

  const flaky = await downloads(['flaky', '--stats-url', base]);
  assert.equal(flaky.code, 0, flaky.stdout);
  assert.equal(flaky.body.count, 6789);
  assert.equal(hits.get('/stats/api/packages/flaky/recent'), 2, 'retried once after the 429');

  const broken = await downloads(['broken', '--stats-url', base]);
  assert.equal(broken.code, 1);
  assert.equal(broken.body.error.code, 'DOWNLOADS_BAD_RESPONSE');

  const wrong = await downloads(['wrongshape', '--stats-url', base]);
  assert.equal(wrong.code, 1);
  assert.equal(wrong.body.error.code, 'DOWNLOADS_BAD_RESPONSE');
  assert.match(wrong.body.error.message, /data\.last_day/);

  const down = await downloads(['down', '--stats-url', base]);
  assert.equal(down.code, 1);
  assert.equal(down.body.error.code, 'DOWNLOADS_UNAVAILABLE');
  assert.equal(hits.get('/stats/api/packages/down/recent'), 4, 'first try and three retries');
});

test('without configuration the command names exactly what to set', async () => {
  const none = await downloads(['good']);
  assert.equal(none.code, 1);
  assert.equal(none.body.error.code, 'DOWNLOADS_NOT_CONFIGURED');
  for (const name of ['PKGHUNT_GCP_PROJECT', 'GOOGLE_APPLICATION_CREDENTIALS', 'PKGHUNT_STATS_URL']) {
    assert.ok(none.body.error.message.includes(name), `names ${name}: ${none.body.error.message}`);
  }

  const bq = await downloads(['good', '--provider', 'bigquery', '--gcp-project', 'my-billing']);
  assert.equal(bq.body.error.code, 'DOWNLOADS_NOT_CONFIGURED');
  assert.match(bq.body.error.message, /GOOGLE_APPLICATION_CREDENTIALS/);
  assert.doesNotMatch(bq.body.error.message, /PKGHUNT_GCP_PROJECT/, 'the project is set');

  const stats = await downloads(['good', '--provider', 'stats-api'], { PKGHUNT_GCP_PROJECT: 'p' });
  assert.equal(stats.body.error.code, 'DOWNLOADS_NOT_CONFIGURED');
  assert.match(stats.body.error.message, /PKGHUNT_STATS_URL/);

  const noKey = await downloads(['good'], {
    PKGHUNT_GCP_PROJECT: 'p',
    GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json',
  });
  assert.equal(noKey.body.error.code, 'DOWNLOADS_NOT_CONFIGURED');
  assert.match(noKey.body.error.message, /\/nonexistent\/key\.json/);

  const usage = await downloads(['good', '--provider', 'carrier-pigeon']);
  assert.equal(usage.code, 2);
});

test('--dry-run prints the parameterised BigQuery query without credentials', async () => {
  const dry = await downloads(['Evil.Pkg', '--dry-run', '--show-query', '--days', '30']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.body.provider, 'bigquery');
  assert.match(dry.body.query, /FROM `bigquery-public-data\.pypi\.file_downloads`/);
  assert.match(dry.body.query, /file\.project = @project/);
  assert.match(dry.body.query, /INTERVAL @days DAY/);
  assert.match(dry.body.query, /@project STRING = "evil-pkg"/);
  assert.ok(!dry.body.query.split('\n--')[0].includes('evil'), 'the name is a parameter, not SQL text');
});

test('downloadCount (for alerts): null without a provider, the count with one, null on failure', async () => {
  assert.equal(await downloadCount('good', { days: 30, config: loadConfig(UNSET) }), null);
  assert.deepEqual(
    await downloadCount('good', { days: 30, config: loadConfig({ ...UNSET, PKGHUNT_STATS_URL: base }) }),
    {
      count: 6789,
      provider: 'stats-api',
    },
  );
  const errors: unknown[] = [];
  const failed = await downloadCount('missing', {
    days: 30,
    config: loadConfig({ ...UNSET, PKGHUNT_STATS_URL: base }),
    onError: (e) => errors.push(e),
  });
  assert.equal(failed, null);
  assert.equal(errors.length, 1);
});

const bigqueryReady =
  (process.env.GOOGLE_APPLICATION_CREDENTIALS ?? '') !== '' && (process.env.PKGHUNT_GCP_PROJECT ?? '') !== '';

test('BigQuery: a real query of the public data set', {
  skip: bigqueryReady
    ? false
    : 'no Google Cloud credentials here (set GOOGLE_APPLICATION_CREDENTIALS and PKGHUNT_GCP_PROJECT to run it)',
}, async () => {
  const result = await runCli(['downloads', 'pip', '--provider', 'bigquery', '--days', '1', '--json']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.provider, 'bigquery');
  assert.ok(body.count > 0);
});
