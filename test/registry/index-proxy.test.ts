import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type IndexProxy, startIndexProxy } from '../../src/adapters/registry/index-proxy.ts';
import { closedPort, type FakeUpstream, send, sha256, startFakeUpstream } from './fake-upstream.ts';

const FAST = { retries: 2, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000 };
const SDIST = Buffer.from('pretend sdist bytes '.repeat(1000));

function get(socketPath: string, path: string, method = 'GET'): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function fileLinks(html: string): string[] {
  return [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1] ?? '');
}

async function setup(t: import('node:test').TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-proxy-test-'));
  const upstream = await startFakeUpstream();
  const proxies: IndexProxy[] = [];
  t.after(async () => {
    for (const p of proxies) await p.close();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });
  async function proxy(name: string, indexUrl = `${upstream.base}/simple/`): Promise<IndexProxy> {
    const p = await startIndexProxy({
      indexUrl,
      socketPath: join(dir, `${name}.sock`),
      cacheDir: join(dir, 'cache'),
      retry: FAST,
    });
    proxies.push(p);
    return p;
  }
  return { dir, upstream, proxy };
}

function serveDemo(upstream: FakeUpstream, options: { sha?: string; delayMs?: number } = {}): void {
  upstream.route('/simple/demo/', (_req, res) =>
    send(
      res,
      200,
      `<a href="/dl/demo-1.0.tar.gz#sha256=${options.sha ?? sha256(SDIST)}" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>` +
        '<a href="/dl/demo-0.9.tar.gz" data-yanked="bad">demo-0.9.tar.gz</a>',
    ),
  );
  upstream.route('/dl/demo-1.0.tar.gz', (_req, res) => {
    setTimeout(() => send(res, 200, SDIST, 'application/octet-stream'), options.delayMs ?? 0);
  });
}

test('rewrites pages, serves files, logs requests with phases', async (t) => {
  const { upstream, proxy } = await setup(t);
  serveDemo(upstream);
  const p = await proxy('a');
  p.setPhase('install');
  const page = await get(p.socketPath, '/simple/Demo/');
  assert.equal(page.status, 200);
  const html = page.body.toString();
  const links = fileLinks(html);
  assert.equal(links.length, 2);
  assert.ok(
    links.every((l) => l.startsWith('/files/')),
    'every link points at the proxy',
  );
  assert.ok(!html.includes(upstream.base), 'no upstream URL leaks to pip');
  assert.ok(links[0]?.endsWith(`/demo-1.0.tar.gz#sha256=${sha256(SDIST)}`));
  assert.match(html, /data-requires-python="&gt;=3.8"/);
  assert.match(html, /data-yanked="bad"/);

  const file = await get(p.socketPath, (links[0] ?? '').split('#')[0] ?? '');
  assert.equal(file.status, 200);
  assert.ok(file.body.equals(SDIST));
  p.setPhase('import');
  const again = await get(p.socketPath, (links[0] ?? '').split('#')[0] ?? '');
  assert.ok(again.body.equals(SDIST));
  assert.equal(upstream.hits.get('/dl/demo-1.0.tar.gz'), 1);

  const log = p.requests();
  assert.deepEqual(
    log.map((r) => [r.path.split('/')[1], r.status, r.cached, r.phase]),
    [
      ['simple', 200, false, 'install'],
      ['files', 200, false, 'install'],
      ['files', 200, true, 'import'],
    ],
  );
  assert.equal(log[0]?.upstream, `${upstream.base}/simple/demo/`);
  assert.equal(log[1]?.upstream, `${upstream.base}/dl/demo-1.0.tar.gz`);
  assert.equal(log[1]?.bytes, SDIST.length);
  assert.ok((log[2]?.time ?? -1) >= (log[0]?.time ?? 0));
  assert.deepEqual(p.servedFiles(), [
    { filename: 'demo-1.0.tar.gz', sha256: sha256(SDIST), size: SDIST.length, project: 'demo' },
  ]);
});

test('two proxies sharing a cache fetch a file once, also concurrently', async (t) => {
  const { upstream, proxy, dir } = await setup(t);
  serveDemo(upstream, { delayMs: 300 });
  const [a, b] = [await proxy('a'), await proxy('b')];
  const [pageA, pageB] = await Promise.all([
    get(a.socketPath, '/simple/demo/'),
    get(b.socketPath, '/simple/demo/'),
  ]);
  const linkA = fileLinks(pageA.body.toString())[0]?.split('#')[0] ?? '';
  const linkB = fileLinks(pageB.body.toString())[0]?.split('#')[0] ?? '';
  const [fa, fb] = await Promise.all([get(a.socketPath, linkA), get(b.socketPath, linkB)]);
  assert.ok(fa.body.equals(SDIST) && fb.body.equals(SDIST));
  assert.equal(upstream.hits.get('/dl/demo-1.0.tar.gz'), 1);
  const cachedFlags = [...a.requests(), ...b.requests()]
    .filter((r) => r.path.startsWith('/files/'))
    .map((r) => r.cached);
  assert.deepEqual(cachedFlags.sort(), [false, true]);
  // A third proxy (a later run) gets it from disk.
  const c = await proxy('c');
  await get(c.socketPath, '/simple/demo/');
  assert.ok((await get(c.socketPath, linkA)).body.equals(SDIST));
  assert.equal(upstream.hits.get('/dl/demo-1.0.tar.gz'), 1);
  const blob = join(dir, 'cache', 'sha256', sha256(SDIST).slice(0, 2), sha256(SDIST));
  assert.ok(
    (await readdir(join(dir, 'cache', 'sha256', sha256(SDIST).slice(0, 2)))).includes(sha256(SDIST)),
    blob,
  );
  assert.deepEqual(await readdir(join(dir, 'cache', 'tmp')), [], 'no temp files left');
});

test('no open relay: only files listed on a served page can be fetched', async (t) => {
  const { upstream, proxy } = await setup(t);
  serveDemo(upstream);
  upstream.route('/secret', (_req, res) => send(res, 200, 'secret'));
  const p = await proxy('a');
  const fresh = await proxy('fresh');
  const link = fileLinks((await get(p.socketPath, '/simple/demo/')).body.toString())[0]?.split('#')[0] ?? '';
  // The same link on a proxy that never served the page is refused.
  assert.equal((await get(fresh.socketPath, link)).status, 404);
  const id = link.split('/')[2] ?? '';
  for (const path of [
    `/files/${id}/other-1.0.tar.gz`,
    '/files/0123456789abcdef0123456789abcdef/demo-1.0.tar.gz',
    `${upstream.base}/secret`,
    '/secret',
    '/simple/../secret',
    '/simple/demo;id/',
    '/simple/%2e%2e%2fsecret/',
    '/files/x/y/z',
  ]) {
    const res = await get(p.socketPath, path);
    assert.equal(res.status, 404, path);
  }
  assert.equal((await get(p.socketPath, '/simple/demo/', 'POST')).status, 405);
  assert.equal(upstream.hits.get('/secret'), undefined);
  assert.equal(upstream.hits.get('/dl/demo-1.0.tar.gz'), undefined);
  const refused = p.requests().filter((r) => r.status >= 400);
  assert.ok(refused.length >= 9 && refused.every((r) => r.upstream === null));
});

test('bad hashes, missing projects and a down upstream', async (t) => {
  const { upstream, proxy, dir } = await setup(t);
  serveDemo(upstream, { sha: 'ff'.repeat(32) });
  const p = await proxy('a');
  const link = fileLinks((await get(p.socketPath, '/simple/demo/')).body.toString())[0]?.split('#')[0] ?? '';
  assert.equal((await get(p.socketPath, link)).status, 502);
  assert.deepEqual(await readdir(join(dir, 'cache', 'urls')), [], 'a file with a wrong hash is not cached');
  assert.equal((await get(p.socketPath, '/simple/missing/')).status, 404);
  upstream.route('/simple/flaky/', (_req, res) => send(res, 503, 'busy'));
  assert.equal((await get(p.socketPath, '/simple/flaky/')).status, 502);
  assert.equal(upstream.hits.get('/simple/flaky/'), 3);

  const down = await proxy('down', `http://127.0.0.1:${await closedPort()}/simple/`);
  const res = await get(down.socketPath, '/simple/demo/');
  assert.equal(res.status, 502);
  assert.match(res.body.toString(), /Cannot reach/);
  assert.equal(down.requests()[0]?.status, 502);
  assert.match(down.requests()[0]?.upstream ?? '', /^http:\/\/127\.0\.0\.1:\d+\/simple\/demo\/$/);
});

test('serves a local directory index from disk', async (t) => {
  const { dir, proxy } = await setup(t);
  const index = join(dir, 'index');
  await mkdir(join(index, 'simple', 'demo'), { recursive: true });
  await mkdir(join(index, 'files'));
  await writeFile(join(index, 'files', 'demo-1.0.tar.gz'), SDIST);
  await writeFile(
    join(index, 'simple', 'demo', 'index.html'),
    `<a href="../../files/demo-1.0.tar.gz#sha256=${sha256(SDIST)}">demo-1.0.tar.gz</a>` +
      '<a href="../../../../../../etc/hostname">demo-6.6.tar.gz</a>',
  );
  const p = await proxy('local', `${pathToFileURL(join(index, 'simple')).href}/`);
  const links = fileLinks((await get(p.socketPath, '/simple/demo/')).body.toString());
  assert.equal(links.length, 1, 'the link leaving the index is dropped');
  const file = await get(p.socketPath, links[0]?.split('#')[0] ?? '');
  assert.equal(file.status, 200);
  assert.ok(file.body.equals(SDIST));
  assert.equal(p.requests()[1]?.upstream, pathToFileURL(join(index, 'files', 'demo-1.0.tar.gz')).href);
});
