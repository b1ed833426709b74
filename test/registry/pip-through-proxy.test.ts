import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ZipFile } from 'yazl';
import { startIndexProxy } from '../../src/adapters/registry/index-proxy.ts';

const run = promisify(execFile);

function wheelBytes(): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from('VALUE = 1\n'), 'demo_pkg/__init__.py');
  zip.addBuffer(
    Buffer.from('Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n\n'),
    'demo_pkg-1.0.dist-info/METADATA',
  );
  zip.addBuffer(
    Buffer.from('Wheel-Version: 1.0\nGenerator: pkghunt-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
    'demo_pkg-1.0.dist-info/WHEEL',
  );
  zip.addBuffer(Buffer.from(''), 'demo_pkg-1.0.dist-info/RECORD');
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

test('a real, isolated pip downloads through the proxy from a local index', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-pip-proxy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const wheel = await wheelBytes();
  await mkdir(join(dir, 'index', 'demo-pkg'), { recursive: true });
  await writeFile(join(dir, 'index', 'demo-pkg', 'demo_pkg-1.0-py3-none-any.whl'), wheel);
  const proxy = await startIndexProxy({
    indexUrl: `${pathToFileURL(join(dir, 'index')).href}/`,
    socketPath: join(dir, 'proxy.sock'),
    cacheDir: join(dir, 'cache'),
  });
  t.after(() => proxy.close());
  // Stands in for the in-netns forwarder: TCP on loopback piped to the proxy's socket.
  const forwarder = createServer((client) => {
    const upstream = connect(proxy.socketPath);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => forwarder.close(() => resolve())));
  const { port } = forwarder.address() as AddressInfo;
  proxy.setPhase('install');
  await run(
    'python3',
    [
      '-m',
      'pip',
      'download',
      '--isolated',
      '--no-deps',
      '--no-cache-dir',
      '--disable-pip-version-check',
      '--index-url',
      `http://127.0.0.1:${port}/simple/`,
      '-d',
      join(dir, 'out'),
      'Demo.Pkg',
    ],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, PIP_CONFIG_FILE: '/dev/null' },
      timeout: 60_000,
    },
  );
  assert.deepEqual(await readdir(join(dir, 'out')), ['demo_pkg-1.0-py3-none-any.whl']);
  assert.ok((await readFile(join(dir, 'out', 'demo_pkg-1.0-py3-none-any.whl'))).equals(wheel));
  const paths = proxy.requests().map((r) => [r.path.split('/')[1], r.status, r.phase]);
  assert.deepEqual(paths, [
    ['simple', 200, 'install'],
    ['files', 200, 'install'],
  ]);
  assert.equal(proxy.servedFiles()[0]?.filename, 'demo_pkg-1.0-py3-none-any.whl');
});
