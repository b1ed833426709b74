import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  fetchProjectMetadata,
  getProjectPage,
  jsonApiUrl,
  latestRelease,
} from '../../src/adapters/registry/simple-index.ts';
import { isPkghuntError } from '../../src/core/errors.ts';
import { closedPort, send, startFakeUpstream } from './fake-upstream.ts';

const FAST = { retries: 3, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000 };

function code(expected: string) {
  return (error: unknown) => isPkghuntError(error) && error.code === expected;
}

test('getProjectPage prefers PEP 691 JSON and falls back to HTML', async (t) => {
  const upstream = await startFakeUpstream();
  t.after(() => upstream.close());
  upstream.route('/simple/demo-pkg/', (req, res) => {
    if ((req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json')) {
      send(
        res,
        200,
        JSON.stringify({
          meta: { 'api-version': '1.1' },
          name: 'demo-pkg',
          files: [
            { filename: 'demo_pkg-1.0.tar.gz', url: '../../f/demo_pkg-1.0.tar.gz', hashes: { sha256: 'aa' } },
          ],
        }),
        'application/vnd.pypi.simple.v1+json',
      );
    } else send(res, 500, 'no');
  });
  upstream.route('/html/simple/demo-pkg/', (_req, res) =>
    send(
      res,
      200,
      '<a href="demo_pkg-2.0.tar.gz#sha256=bb" data-requires-python="&gt;=3.9">demo_pkg-2.0.tar.gz</a>',
    ),
  );
  const page = await getProjectPage(`${upstream.base}/simple/`, 'Demo_Pkg', FAST);
  assert.equal(page.files[0]?.url, `${upstream.base}/f/demo_pkg-1.0.tar.gz`);
  assert.deepEqual(page.files[0]?.hashes, { sha256: 'aa' });
  const html = await getProjectPage(`${upstream.base}/html/simple/`, 'demo.pkg', FAST);
  assert.equal(html.files[0]?.url, `${upstream.base}/html/simple/demo-pkg/demo_pkg-2.0.tar.gz`);
  assert.equal(html.files[0]?.requiresPython, '>=3.9');
  assert.equal(latestRelease(html).version, '2.0');
});

test('429 then 200 is retried, honouring Retry-After', async (t) => {
  const upstream = await startFakeUpstream();
  t.after(() => upstream.close());
  let calls = 0;
  upstream.route('/simple/demo/', (_req, res) => {
    calls++;
    if (calls === 1) {
      res.writeHead(429, { 'Retry-After': '1' });
      res.end();
    } else send(res, 200, '<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>');
  });
  const started = Date.now();
  const page = await getProjectPage(`${upstream.base}/simple/`, 'demo', { ...FAST, maxDelayMs: 5000 });
  assert.equal(page.files.length, 1);
  assert.equal(calls, 2);
  assert.ok(Date.now() - started >= 900, 'waited for Retry-After');
});

test('persistent 500s, 404s and a down index give typed errors', async (t) => {
  const upstream = await startFakeUpstream();
  t.after(() => upstream.close());
  upstream.route('/simple/broken/', (_req, res) => send(res, 500, 'boom'));
  await assert.rejects(getProjectPage(`${upstream.base}/simple/`, 'broken', FAST), code('INDEX_UNREACHABLE'));
  assert.equal(upstream.hits.get('/simple/broken/'), 4, 'one try plus three retries');
  await assert.rejects(
    getProjectPage(`${upstream.base}/simple/`, 'missing', FAST),
    code('PACKAGE_NOT_FOUND'),
  );
  const port = await closedPort();
  await assert.rejects(
    getProjectPage(`http://127.0.0.1:${port}/simple/`, 'demo', FAST),
    (error: unknown) => code('INDEX_UNREACHABLE')(error) && (error as { hint?: string }).hint !== undefined,
  );
});

test('fetchProjectMetadata reads the JSON API next to /simple/ and returns null without one', async (t) => {
  const upstream = await startFakeUpstream();
  t.after(() => upstream.close());
  assert.equal(
    jsonApiUrl(`${upstream.base}/root/simple/`, 'demo', '1.0'),
    `${upstream.base}/root/pypi/demo/1.0/json`,
  );
  upstream.route('/root/pypi/demo/1.0/json', (_req, res) =>
    send(
      res,
      200,
      JSON.stringify({
        info: {
          name: 'demo',
          version: '1.0',
          summary: 'A demo',
          author: 'A. Author',
          author_email: null,
          license: 'MIT',
          project_urls: { Home: 'http://127.0.0.1/' },
          requires_dist: ['six'],
          requires_python: '>=3.8',
          extra_field: 1,
        },
        urls: [{ filename: 'demo-1.0.tar.gz', upload_time_iso_8601: '2024-01-01T00:00:00Z' }],
      }),
      'application/json',
    ),
  );
  upstream.route('/root/pypi/bad/1.0/json', (_req, res) => send(res, 200, '{"info": 3}', 'application/json'));
  const meta = await fetchProjectMetadata(`${upstream.base}/root/simple/`, 'Demo', '1.0', FAST);
  assert.equal(meta?.summary, 'A demo');
  assert.equal(meta?.maintainer, null);
  assert.deepEqual(meta?.requires_dist, ['six']);
  assert.deepEqual(meta?.files, [{ filename: 'demo-1.0.tar.gz', upload_time: '2024-01-01T00:00:00Z' }]);
  assert.equal(await fetchProjectMetadata(`${upstream.base}/root/simple/`, 'other', '1.0', FAST), null);
  await assert.rejects(
    fetchProjectMetadata(`${upstream.base}/root/simple/`, 'bad', '1.0', FAST),
    code('INDEX_BAD_RESPONSE'),
  );
  assert.equal(await fetchProjectMetadata('file:///nonexistent/simple/', 'demo', '1.0'), null);
});

test('local directory indexes: both layouts, links kept inside the index', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-local-index-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'simple', 'demo'), { recursive: true });
  await mkdir(join(dir, 'files'));
  await writeFile(join(dir, 'files', 'demo-1.0.tar.gz'), 'x');
  await writeFile(
    join(dir, 'simple', 'demo', 'index.html'),
    '<a href="../../files/demo-1.0.tar.gz#sha256=ab">demo-1.0.tar.gz</a>' +
      '<a href="../../../../../etc/passwd">demo-6.6.tar.gz</a><a href="file:///etc/shadow">demo-6.7.tar.gz</a>',
  );
  await mkdir(join(dir, 'plain'));
  await writeFile(join(dir, 'plain', 'plain-0.1.tar.gz'), 'y');
  await writeFile(join(dir, 'plain', 'README'), 'z');
  const root = pathToFileURL(`${dir}/`).href;
  const page = await getProjectPage(root, 'demo');
  assert.deepEqual(
    page.files.map((f) => f.url),
    [pathToFileURL(join(dir, 'files', 'demo-1.0.tar.gz')).href],
  );
  const simple = await getProjectPage(`${root}simple/`, 'demo');
  assert.equal(simple.files.length, 1);
  const plain = await getProjectPage(root, 'plain');
  assert.deepEqual(
    plain.files.map((f) => f.filename),
    ['plain-0.1.tar.gz'],
  );
  await assert.rejects(getProjectPage(root, 'absent'), code('PACKAGE_NOT_FOUND'));
});
