import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { PkghuntError } from '../../src/core/errors.ts';

/** The manifest beside each fixture's sources (pkghunt.json): what the builder needs for the metadata. */
export const FixtureManifest = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  version: z.string().regex(/^[0-9][0-9A-Za-z.+-]*$/),
  summary: z.string(),
  dists: z.array(z.enum(['sdist', 'wheel'])).min(1),
  requires: z.array(z.string()).default([]),
});
export type FixtureManifest = z.infer<typeof FixtureManifest>;

export type FixtureFile = { path: string; data: Buffer; mode: number };
export type FixturePackage = { manifest: FixtureManifest; dir: string; files: FixtureFile[] };

export const MANIFEST_NAME = 'pkghunt.json';

function _isIgnored(name: string): boolean {
  return name === MANIFEST_NAME || name === '__pycache__' || name.endsWith('.pyc') || name.startsWith('.');
}

async function _walk(root: string, dir: string, out: FixtureFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (_isIgnored(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await _walk(root, full, out);
    else if (entry.isFile()) {
      const mode = (await stat(full)).mode & 0o111 ? 0o755 : 0o644;
      out.push({ path: relative(root, full).split(sep).join('/'), data: await readFile(full), mode });
    }
  }
}

/** Reads a fixture's sources and manifest; files are sorted by path so archives come out byte-identical. */
export async function readFixturePackage(dir: string): Promise<FixturePackage> {
  const manifestPath = join(dir, MANIFEST_NAME);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (error) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot read fixture manifest ${manifestPath}`, {
      cause: error,
    });
  }
  const parsed = FixtureManifest.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot parse fixture manifest ${manifestPath}: ${parsed.error.message}`,
    );
  }
  const files: FixtureFile[] = [];
  await _walk(dir, dir, files);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { manifest: parsed.data, dir, files };
}
