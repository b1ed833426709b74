/**
 * Builds a local npm registry directory from the fixture sources under test/fixtures/npm/packages:
 * each package folder is packed with node-tar (npm's own tar library) into `package/...`, and
 * described by a package document. No fixture's script ever runs on the host.
 *
 * Layout (what `--registry DIR` reads, see src/adapters/registry/npm-registry.ts):
 *   OUTDIR/<name>/index.json          the package document (dist-tags, versions, time, dist.tarball relative)
 *   OUTDIR/<name>/-/<name>-<v>.tgz    the tarball
 * `publishNpmPackage` adds one more version (or package) to such a directory, e.g. a fixture's
 * sources under another name or version, the way a registry gains a release.
 * CLI: node --import tsx demo/build-npm-registry.ts OUTDIR
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

/**
 * Packs one fixture folder as `npm pack` would lay it out (every file under `package/`),
 * reproducibly; `manifest` replaces its package.json.
 */
async function pack(sourceDir: string, outFile: string, manifest: Record<string, unknown>): Promise<void> {
  const staging = `${outFile}.staging`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'package'), { recursive: true });
  const names = (await readdir(sourceDir)).sort();
  for (const name of names) {
    const content =
      name === 'package.json'
        ? `${JSON.stringify(manifest, null, 2)}\n`
        : await readFile(join(sourceDir, name));
    await writeFile(join(staging, 'package', name), content);
  }
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

const Packument = z
  .object({
    'dist-tags': z.record(z.string(), z.string()),
    versions: z.record(z.string(), z.unknown()),
    time: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export interface PublishOptions {
  /** Publish under this name instead of the fixture's own. */
  name?: string;
  /** Publish as this version instead of the fixture's own. */
  version?: string;
  /** Publication time (ISO); default: a fixed date, so that builds are reproducible. */
  published?: string;
}

/**
 * Adds a fixture folder to a directory registry as one version: packs it, and adds the version to
 * the package's document (created when absent), with its `time` and as the `latest` dist-tag.
 * The document is replaced atomically, so a registry server reading it meanwhile never sees half.
 */
export async function publishNpmPackage(
  outDir: string,
  sourceDir: string,
  options: PublishOptions = {},
): Promise<BuiltNpmPackage> {
  const fixture = FixtureManifest.parse(JSON.parse(await readFile(join(sourceDir, 'package.json'), 'utf8')));
  const manifest = {
    ...fixture,
    name: options.name ?? fixture.name,
    version: options.version ?? fixture.version,
  };
  const published = options.published ?? '2020-01-01T00:00:00.000Z';
  const base = manifest.name.split('/').pop() ?? manifest.name;
  const filename = `${base}-${manifest.version}.tgz`;
  const dir = join(outDir, manifest.name);
  await mkdir(join(dir, '-'), { recursive: true });
  const tarball = join(dir, '-', filename);
  await pack(sourceDir, tarball, manifest);
  const bytes = await readFile(tarball);
  const documentPath = join(dir, 'index.json');
  const existing = await readFile(documentPath, 'utf8').then(
    (text) => Packument.parse(JSON.parse(text)),
    () => null,
  );
  const packument = {
    name: manifest.name,
    'dist-tags': { ...(existing?.['dist-tags'] ?? {}), latest: manifest.version },
    versions: {
      ...(existing?.versions ?? {}),
      [manifest.version]: {
        ...manifest,
        ...(['preinstall', 'install', 'postinstall'].some((k) => k in ((fixture.scripts as object) ?? {}))
          ? { hasInstallScript: true }
          : {}),
        dist: {
          tarball: `-/${filename}`,
          shasum: createHash('sha1').update(bytes).digest('hex'),
          integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
        },
      },
    },
    time: {
      created: published,
      ...(existing?.time ?? {}),
      modified: published,
      [manifest.version]: published,
    },
  };
  await writeFile(`${documentPath}.tmp`, `${JSON.stringify(packument, null, 2)}\n`);
  await rename(`${documentPath}.tmp`, documentPath);
  return { name: manifest.name, version: manifest.version, tarball };
}

export async function buildNpmRegistry(
  outDir: string,
  sourcesDir = NPM_FIXTURES_DIR,
): Promise<BuiltNpmPackage[]> {
  const built: BuiltNpmPackage[] = [];
  await mkdir(outDir, { recursive: true });
  for (const folder of (await readdir(sourcesDir)).sort()) {
    built.push(await publishNpmPackage(outDir, join(sourcesDir, folder)));
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
