import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ZipFile } from 'yazl';
import { inspectArchive } from '../../src/adapters/archive/inspect-archive.ts';
import { memberPathProblem } from '../../src/adapters/archive/member-path.ts';
import { isPkghuntError } from '../../src/core/errors.ts';

interface RawMember {
  path: string;
  /** ustar type flag: '0' file, '1' hard link, '2' symlink, '5' directory. */
  type?: '0' | '1' | '2' | '5';
  linkpath?: string;
  data?: Buffer;
}

/** Writes ustar by hand: node-tar's writer would sanitise the hostile members these tests need. */
function rawTar(members: readonly RawMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const member of members) {
    const data = member.data ?? Buffer.alloc(0);
    const header = Buffer.alloc(512);
    header.write(member.path, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write(member.type ?? '0', 156);
    if (member.linkpath) header.write(member.linkpath, 157, 100, 'utf8');
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function zip(members: ReadonlyArray<{ path: string; data: Buffer; mode?: number }>): Promise<Buffer> {
  const file = new ZipFile();
  for (const m of members) file.addBuffer(m.data, m.path, m.mode === undefined ? {} : { mode: m.mode });
  file.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    file.outputStream.on('data', (c: Buffer) => chunks.push(c));
    file.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    file.outputStream.on('error', reject);
  });
}

const PKG_INFO = Buffer.from('Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.2.3\n\n');

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-archive-test-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rejectsWith(code: string) {
  return (error: unknown) => isPkghuntError(error) && error.code === code;
}

test('memberPathProblem spots absolute paths, .. segments and escaping links', () => {
  assert.equal(memberPathProblem('pkg/a.py'), null);
  assert.equal(memberPathProblem('/etc/passwd'), 'absolute path');
  assert.equal(memberPathProblem('pkg/../../x'), 'parent segment');
  assert.equal(memberPathProblem('pkg\\..\\x'), 'parent segment');
  assert.equal(memberPathProblem('pkg/a/link', { kind: 'symlink', target: '../b' }), null);
  assert.equal(memberPathProblem('pkg/link', { kind: 'symlink', target: '../../etc' }), 'link escapes');
  assert.equal(memberPathProblem('pkg/link', { kind: 'symlink', target: '/etc/passwd' }), 'link escapes');
  assert.equal(memberPathProblem('pkg/hard', { kind: 'hardlink', target: 'pkg/a.py' }), null);
  assert.equal(memberPathProblem('pkg/hard', { kind: 'hardlink', target: '../x' }), 'link escapes');
});

test('reads a good sdist and a good wheel', async () => {
  await withDir(async (dir) => {
    const sdist = join(dir, 'demo_pkg-1.2.3.tar.gz');
    const bytes = gzipSync(
      rawTar([
        { path: 'demo_pkg-1.2.3/', type: '5' },
        { path: 'demo_pkg-1.2.3/PKG-INFO', data: PKG_INFO },
        { path: 'demo_pkg-1.2.3/setup.py', data: Buffer.from('print(1)\n') },
        { path: 'demo_pkg-1.2.3/link.py', type: '2', linkpath: 'setup.py' },
      ]),
    );
    await writeFile(sdist, bytes);
    const info = await inspectArchive(sdist);
    assert.deepEqual(info, {
      kind: 'sdist',
      filename: 'demo_pkg-1.2.3.tar.gz',
      name: 'Demo_Pkg',
      version: '1.2.3',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
    });

    const wheel = join(dir, 'demo_pkg-1.2.3-py3-none-any.whl');
    await writeFile(
      wheel,
      await zip([
        { path: 'demo_pkg/__init__.py', data: Buffer.from('x = 1\n') },
        { path: 'demo_pkg-1.2.3.dist-info/METADATA', data: PKG_INFO },
      ]),
    );
    const w = await inspectArchive(wheel);
    assert.equal(w.kind, 'wheel');
    assert.equal(w.name, 'demo_pkg');
    assert.equal(w.version, '1.2.3');

    const zipSdist = join(dir, 'other-0.1.zip');
    await writeFile(zipSdist, await zip([{ path: 'other-0.1/PKG-INFO', data: PKG_INFO }]));
    const z = await inspectArchive(zipSdist);
    assert.deepEqual([z.kind, z.name, z.version], ['sdist', 'Demo_Pkg', '1.2.3']);
  });
});

test('missing files, corrupt bytes and unknown formats are refused', async () => {
  await withDir(async (dir) => {
    await assert.rejects(inspectArchive(join(dir, 'nope-1.0.tar.gz')), rejectsWith('LOCAL_FILE_NOT_FOUND'));
    const junk = Buffer.from('this is not an archive at all, just text '.repeat(50));
    for (const name of ['bad-1.0.tar.gz', 'bad-1.0-py3-none-any.whl', 'bad-1.0.zip', 'bad-1.0.rar']) {
      await writeFile(join(dir, name), junk);
      await assert.rejects(inspectArchive(join(dir, name)), rejectsWith('ARCHIVE_UNREADABLE'), name);
    }
    // Valid gzip around bytes that are not tar.
    await writeFile(join(dir, 'gz-1.0.tar.gz'), gzipSync(junk));
    await assert.rejects(inspectArchive(join(dir, 'gz-1.0.tar.gz')), rejectsWith('ARCHIVE_UNREADABLE'));
    // Truncated gzip.
    const good = gzipSync(rawTar([{ path: 'x-1.0/PKG-INFO', data: PKG_INFO }]));
    await writeFile(join(dir, 'cut-1.0.tar.gz'), good.subarray(0, good.length - 20));
    await assert.rejects(inspectArchive(join(dir, 'cut-1.0.tar.gz')), rejectsWith('ARCHIVE_UNREADABLE'));
  });
});

test('traversal members and escaping links are refused', async () => {
  await withDir(async (dir) => {
    const cases: Array<[string, RawMember[]]> = [
      ['dotdot', [{ path: 'x-1.0/../../evil.py', data: Buffer.from('x') }]],
      ['absolute', [{ path: '/tmp/evil.py', data: Buffer.from('x') }]],
      ['symlink', [{ path: 'x-1.0/ssh', type: '2', linkpath: '../../root/.ssh' }]],
      ['abs-symlink', [{ path: 'x-1.0/passwd', type: '2', linkpath: '/etc/passwd' }]],
      ['hardlink', [{ path: 'x-1.0/h', type: '1', linkpath: '../etc/shadow' }]],
    ];
    for (const [label, members] of cases) {
      const path = join(dir, `${label}-1.0.tar.gz`);
      await writeFile(path, gzipSync(rawTar(members)));
      await assert.rejects(inspectArchive(path), rejectsWith('ARCHIVE_PATH_TRAVERSAL'), label);
    }
    const zipLink = join(dir, 'ziplink-1.0-py3-none-any.whl');
    await writeFile(
      zipLink,
      await zip([{ path: 'pkg/link', data: Buffer.from('../../../etc/passwd'), mode: 0o120777 }]),
    );
    await assert.rejects(inspectArchive(zipLink), rejectsWith('ARCHIVE_PATH_TRAVERSAL'));
  });
});

test('decompression bombs and member floods are stopped', async () => {
  await withDir(async (dir) => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const bomb = join(dir, 'bomb-1.0.tar.gz');
    await writeFile(bomb, gzipSync(rawTar([{ path: 'bomb-1.0/zeros', data: zeros }]), { level: 9 }));
    const started = Date.now();
    await assert.rejects(inspectArchive(bomb), rejectsWith('ARCHIVE_TOO_LARGE'));
    // By ratio it stops long before reading the 64 MiB.
    assert.ok(Date.now() - started < 5000);
    await assert.rejects(
      inspectArchive(bomb, { maxRatio: 1_000_000, maxTotalBytes: 8 * 1024 * 1024 }),
      rejectsWith('ARCHIVE_TOO_LARGE'),
    );
    const zipBomb = join(dir, 'bomb-1.0-py3-none-any.whl');
    await writeFile(zipBomb, await zip([{ path: 'bomb/zeros', data: zeros }]));
    await assert.rejects(inspectArchive(zipBomb), rejectsWith('ARCHIVE_TOO_LARGE'));

    const many = join(dir, 'many-1.0.tar.gz');
    const members = Array.from({ length: 30 }, (_, i) => ({
      path: `many-1.0/f${i}`,
      data: Buffer.from('x'),
    }));
    await writeFile(many, gzipSync(rawTar(members)));
    await assert.rejects(inspectArchive(many, { maxMembers: 10 }), rejectsWith('ARCHIVE_TOO_LARGE'));
    const manyZip = join(dir, 'many-1.0.zip');
    await writeFile(manyZip, await zip(members));
    await assert.rejects(inspectArchive(manyZip, { maxMembers: 10 }), rejectsWith('ARCHIVE_TOO_LARGE'));
  });
});
