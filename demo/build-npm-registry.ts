/**
 * Builds a local npm registry directory from the fixture sources under test/fixtures/npm/packages:
 * each package folder is packed with node-tar (npm's own tar library) into `package/...`, and
 * described by a package document. No fixture's script ever runs on the host.
 *
 * Layout (what `--registry DIR` reads, see src/adapters/registry/npm-registry.ts):
 *   OUTDIR/<name>/index.json          the package document (dist-tags, versions, dist.tarball relative)
 *   OUTDIR/<name>/-/<name>-<v>.tgz    the tarball
 * CLI: node --import tsx demo/build-npm-registry.ts OUTDIR
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from 'tar';
import { z } from 'zod';

export const NPM_FIXTURES_DIR = fileURLToPath(new URL('../test/fixtures/npm/packages/', import.meta.url));

const FixtureManifest = z.object({ name: z.string(), version: z.string() }).passthrough();

export interface BuiltNpmPackage {
  name: string;
  version: string;
  tarball: string;
}

/** Packs one fixture folder as `npm pack` would lay it out (every file under `package/`), reproducibly. */
async function pack(sourceDir: string, outFile: string): Promise<void> {
  const staging = `${outFile}.staging`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'package'), { recursive: true });
  const names = (await readdir(sourceDir)).sort();
  for (const name of names)
    await writeFile(join(staging, 'package', name), await readFile(join(sourceDir, name)));
  await create(
    {
      gzip: { level: 9 },
      file: outFile,
      cwd: staging,
      portable: true,
      mtime: new Date('2020-01-01T00:00:00Z'),
    },
    names.map((n) => `package/${n}`),
  );
  await rm(staging, { recursive: true, force: true });
}

export async function buildNpmRegistry(
  outDir: string,
  sourcesDir = NPM_FIXTURES_DIR,
): Promise<BuiltNpmPackage[]> {
  const built: BuiltNpmPackage[] = [];
  await mkdir(outDir, { recursive: true });
  for (const folder of (await readdir(sourcesDir)).sort()) {
    const manifest = FixtureManifest.parse(
      JSON.parse(await readFile(join(sourcesDir, folder, 'package.json'), 'utf8')),
    );
    const base = manifest.name.split('/').pop() ?? manifest.name;
    const filename = `${base}-${manifest.version}.tgz`;
    const dir = join(outDir, manifest.name);
    await mkdir(join(dir, '-'), { recursive: true });
    const tarball = join(dir, '-', filename);
    await pack(join(sourcesDir, folder), tarball);
    const bytes = await readFile(tarball);
    const packument = {
      name: manifest.name,
      'dist-tags': { latest: manifest.version },
      versions: {
        [manifest.version]: {
          ...manifest,
          ...(['preinstall', 'install', 'postinstall'].some((k) => k in ((manifest.scripts as object) ?? {}))
            ? { hasInstallScript: true }
            : {}),
          dist: {
            tarball: `-/${filename}`,
            shasum: createHash('sha1').update(bytes).digest('hex'),
            integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
          },
        },
      },
    };
    await writeFile(join(dir, 'index.json'), `${JSON.stringify(packument, null, 2)}\n`);
    built.push({ name: manifest.name, version: manifest.version, tarball });
  }
  return built;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: node --import tsx demo/build-npm-registry.ts OUTDIR\n');
    process.exit(2);
  }
  for (const p of await buildNpmRegistry(resolve(out)))
    process.stdout.write(`${p.name}@${p.version} ${p.tarball}\n`);
}
