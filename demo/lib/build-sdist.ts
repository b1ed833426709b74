import { join } from 'node:path';
import { distributionFileName, renderCoreMetadata } from './core-metadata.ts';
import type { FixturePackage } from './fixture-package.ts';
import { type TarEntry, writeTarGz } from './write-tar-gz.ts';

/**
 * Writes `<name>-<version>.tar.gz` (PEP 625 file name) with every member under `<name>-<version>/`
 * and a generated PKG-INFO. Built from the bytes of the sources: the fixture's setup.py never runs here.
 */
export async function buildSdist(pkg: FixturePackage, outDir: string): Promise<string> {
  const { name, version } = pkg.manifest;
  const root = `${distributionFileName(name)}-${version}`;
  const files = [
    ...pkg.files,
    { path: 'PKG-INFO', data: Buffer.from(renderCoreMetadata(pkg.manifest)), mode: 0o644 },
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const entries: TarEntry[] = [
    { type: 'Directory', path: `${root}/` },
    ...[...dirs].sort().map((dir): TarEntry => ({ type: 'Directory', path: `${root}/${dir}/` })),
    ...files.map(
      (file): TarEntry => ({ type: 'File', path: `${root}/${file.path}`, data: file.data, mode: file.mode }),
    ),
  ];
  const fileName = `${root}.tar.gz`;
  await writeTarGz(join(outDir, fileName), entries);
  return fileName;
}
