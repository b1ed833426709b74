import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { writeBadArchives } from '../fixtures/bad-archives.ts';
import { newLeftovers, snapshotHost } from '../helpers/leftovers.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

async function expectError(args: string[], code: string, exit: number): Promise<void> {
  const result = await runCli(['analyze', ...args, '--json', '--progress', 'none']);
  assert.equal(result.code, exit, `exit code for ${args.join(' ')}: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as { error?: { code: string; hint: string | null } };
  assert.equal(parsed.error?.code, code, result.stdout);
}

describe('bad input: a clear error with a stable code, and nothing left behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-badinput-'));
  const before = snapshotHost();
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a package that does not exist', async () => {
    await expectError(['ph-demo-does-not-exist', '--index-url', DEMO_INDEX_URL], 'PACKAGE_NOT_FOUND', 1);
  });

  test('a version that does not exist', async () => {
    await expectError(['ph-demo-pure==9.9.9', '--index-url', DEMO_INDEX_URL], 'PACKAGE_NOT_FOUND', 1);
  });

  test('a name with shell metacharacters', async () => {
    await expectError(
      ['foo;touch /tmp/pkghunt-pwned', '--index-url', DEMO_INDEX_URL],
      'INVALID_PACKAGE_SPEC',
      2,
    );
    await expectError(['$(id)', '--index-url', DEMO_INDEX_URL], 'INVALID_PACKAGE_SPEC', 2);
  });

  test('corrupt, traversal, symlink-escape and decompression-bomb archives', async () => {
    const bad = await writeBadArchives(dir);
    await expectError([bad.corrupt], 'ARCHIVE_UNREADABLE', 1);
    await expectError([bad.traversal], 'ARCHIVE_PATH_TRAVERSAL', 1);
    await expectError([bad.symlinkEscape], 'ARCHIVE_PATH_TRAVERSAL', 1);
    await expectError([bad.bomb], 'ARCHIVE_TOO_LARGE', 1);
  });

  test('a local file that does not exist', async () => {
    await expectError([join(dir, 'missing-1.0.tar.gz')], 'LOCAL_FILE_NOT_FOUND', 1);
  });

  test('an index that is down', async () => {
    // A port that was just free: bind, learn the port, close, then point the CLI at it.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expectError(
      ['ph-demo-pure', '--index-url', `http://127.0.0.1:${address.port}/simple/`],
      'INDEX_UNREACHABLE',
      1,
    );
  });

  test('bad usage: unknown option and bad values', async () => {
    const unknown = await runCli(['analyze', 'x', '--no-such-option']);
    assert.equal(unknown.code, 2);
    await expectError(['ph-demo-pure', '--timeout', '-3'], 'USAGE', 2);
    await expectError(['ph-demo-pure', '--phases', 'install,build'], 'USAGE', 2);
  });

  test('nothing is left behind', async () => {
    assert.deepEqual(await newLeftovers(before), []);
  });
});
