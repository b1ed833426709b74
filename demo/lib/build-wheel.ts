import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { distributionFileName, renderCoreMetadata } from './core-metadata.ts';
import type { FixturePackage } from './fixture-package.ts';
import { FIXED_MTIME } from './write-tar-gz.ts';

/** RECORD's hash format: sha256, urlsafe base64 without padding. */
function _recordHash(data: Buffer): string {
  return `sha256=${createHash('sha256').update(data).digest('base64url')}`;
}

function _topLevel(paths: string[]): string[] {
  const names = new Set<string>();
  for (const path of paths) {
    const first = path.split('/')[0] ?? path;
    names.add(path.includes('/') ? first : first.replace(/\.py$/, ''));
  }
  return [...names].sort();
}

/**
 * Writes a pure-Python `py3-none-any` wheel with the dist-info files pip checks (METADATA, WHEEL,
 * top_level.txt, RECORD with hashes). Module files only: setup.py and pyproject.toml are left out.
 */
export async function buildWheel(pkg: FixturePackage, outDir: string): Promise<string> {
  const { name, version } = pkg.manifest;
  const stem = `${distributionFileName(name)}-${version}`;
  const distInfo = `${stem}.dist-info`;
  const modules = pkg.files.filter((file) => file.path !== 'setup.py' && file.path !== 'pyproject.toml');
  const members: { path: string; data: Buffer }[] = [
    ...modules.map((file) => ({ path: file.path, data: file.data })),
    { path: `${distInfo}/METADATA`, data: Buffer.from(renderCoreMetadata(pkg.manifest)) },
    {
      path: `${distInfo}/WHEEL`,
      data: Buffer.from(
        'Wheel-Version: 1.0\nGenerator: pkghunt-demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
      ),
    },
    {
      path: `${distInfo}/top_level.txt`,
      data: Buffer.from(`${_topLevel(modules.map((f) => f.path)).join('\n')}\n`),
    },
  ];
  const record = [
    ...members.map((member) => `${member.path},${_recordHash(member.data)},${member.data.length}`),
    `${distInfo}/RECORD,,`,
  ].join('\n');
  members.push({ path: `${distInfo}/RECORD`, data: Buffer.from(`${record}\n`) });

  const zip = new yazl.ZipFile();
  for (const member of members)
    zip.addBuffer(member.data, member.path, { mtime: FIXED_MTIME, mode: 0o100644 });
  zip.end();
  const fileName = `${stem}-py3-none-any.whl`;
  await pipeline(zip.outputStream, createWriteStream(join(outDir, fileName)));
  return fileName;
}
