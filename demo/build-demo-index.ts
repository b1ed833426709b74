/**
 * Builds the local demo index (PEP 503 "simple" layout) from the fixture sources under demo/packages
 * (and test/fixtures/packages with include 'all'), plus the build dependencies pip needs for sdists.
 * Archives are written byte by byte by our own code: no fixture's setup.py ever runs on the host.
 *
 * Layout: OUTDIR/simple/index.html, OUTDIR/simple/<normalized>/index.html linking
 * ../../files/<file>#sha256=<hex>, and OUTDIR/files/<file>.
 * CLI: node --import tsx demo/build-demo-index.ts OUTDIR [--all] [--build-deps DIR]
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { PkghuntError, toPkghuntError } from '../src/core/errors.ts';
import { buildSdist } from './lib/build-sdist.ts';
import { buildWheel } from './lib/build-wheel.ts';
import { normalizeProjectName } from './lib/core-metadata.ts';
import { type FixturePackage, readFixturePackage } from './lib/fixture-package.ts';

export const DEMO_PACKAGES_DIR = fileURLToPath(new URL('./packages/', import.meta.url));
export const TEST_PACKAGES_DIR = fileURLToPath(new URL('../test/fixtures/packages/', import.meta.url));
const BUILDER_SOURCES = [
  fileURLToPath(import.meta.url),
  ...['build-sdist.ts', 'build-wheel.ts', 'core-metadata.ts', 'fixture-package.ts', 'write-tar-gz.ts'].map(
    (file) => fileURLToPath(new URL(`./lib/${file}`, import.meta.url)),
  ),
];
/** Our sdists ask only for setuptools; wheel (and its dependency packaging) serve sdists that still ask for it. */
export const REQUIRED_BUILD_DEPS = ['setuptools', 'wheel', 'packaging'] as const;
const STAMP_FILE = '.pkghunt-demo-index.json';

const IndexedPackage = z.object({
  name: z.string(),
  version: z.string(),
  origin: z.enum(['demo', 'test', 'build-dep']),
  /** Absolute paths of the distribution files in OUTDIR/files. */
  files: z.array(z.string()),
});
export type IndexedPackage = z.infer<typeof IndexedPackage>;

const Stamp = z.object({
  hash: z.string(),
  packages: z.array(IndexedPackage.extend({ files: z.array(z.string()) })),
});

export type BuildDemoIndexOptions = {
  outDir: string;
  /** 'demo' (default): the ph-demo-* packages; 'all': also the ph-test-* fixtures. */
  include?: 'demo' | 'all';
  /** Folder of wheels (from demo/fetch-build-deps.sh) copied into the index; it must hold setuptools, wheel and packaging. */
  buildDepsDir?: string;
};

export type BuildDemoIndexResult = {
  /** OUTDIR/simple: give pip `--index-url file://<indexDir>` or serve OUTDIR over HTTP at /simple. */
  indexDir: string;
  /** OUTDIR/files: the distribution files the pages link to. */
  filesDir: string;
  packages: IndexedPackage[];
  /** False when the stamp showed nothing changed and the existing index was kept. */
  built: boolean;
};

async function _packageDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(root, entry.name))
    .sort();
}

async function _buildDepWheels(dir: string): Promise<{ path: string; name: string; version: string }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.whl')).sort();
  } catch (error) {
    throw new PkghuntError('LOCAL_FILE_NOT_FOUND', `Cannot read build dependencies folder ${dir}`, {
      hint: `run: bash demo/fetch-build-deps.sh ${dir}`,
      cause: error,
    });
  }
  const wheels = names.map((file) => {
    const [name = '', version = ''] = file.split('-');
    return { path: join(dir, file), name: normalizeProjectName(name), version };
  });
  const missing = REQUIRED_BUILD_DEPS.filter((dep) => !wheels.some((wheel) => wheel.name === dep));
  if (missing.length > 0) {
    throw new PkghuntError(
      'LOCAL_FILE_NOT_FOUND',
      `Build dependencies folder ${dir} lacks ${missing.join(', ')}`,
      {
        hint: `run: bash demo/fetch-build-deps.sh ${dir}`,
      },
    );
  }
  return wheels;
}

function _hashUpdate(hash: ReturnType<typeof createHash>, label: string, data: Buffer | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  hash.update(`${label}\0${bytes.length}\0`).update(bytes);
}

async function _contentHash(
  fixtures: { pkg: FixturePackage; origin: 'demo' | 'test' }[],
  buildDeps: { path: string }[],
): Promise<string> {
  const hash = createHash('sha256');
  for (const source of BUILDER_SOURCES)
    _hashUpdate(hash, `builder:${basename(source)}`, await readFile(source));
  for (const { pkg, origin } of fixtures) {
    _hashUpdate(hash, `manifest:${origin}`, JSON.stringify(pkg.manifest));
    for (const file of pkg.files)
      _hashUpdate(hash, `file:${pkg.manifest.name}:${file.path}:${file.mode}`, file.data);
  }
  for (const dep of buildDeps) _hashUpdate(hash, `dep:${basename(dep.path)}`, await readFile(dep.path));
  return hash.digest('hex');
}

async function _readStamp(outDir: string): Promise<z.infer<typeof Stamp> | undefined> {
  try {
    const parsed = Stamp.safeParse(JSON.parse(await readFile(join(outDir, STAMP_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // no stamp or an unreadable one: rebuild
  }
}

async function _allExist(paths: string[]): Promise<boolean> {
  for (const path of paths) {
    try {
      await stat(path);
    } catch {
      return false;
    }
  }
  return true;
}

function _escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function _page(title: string, links: { href: string; text: string }[]): string {
  const body = links.map((link) => `<a href="${_escapeHtml(link.href)}">${_escapeHtml(link.text)}</a><br>`);
  return [
    '<!DOCTYPE html>',
    '<html>',
    `<head><meta name="pypi:repository-version" content="1.0"><title>${_escapeHtml(title)}</title></head>`,
    '<body>',
    `<h1>${_escapeHtml(title)}</h1>`,
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

async function _writePages(indexDir: string, packages: IndexedPackage[]): Promise<void> {
  const byProject = new Map<string, string[]>();
  for (const pkg of packages) {
    const project = normalizeProjectName(pkg.name);
    byProject.set(project, [...(byProject.get(project) ?? []), ...pkg.files]);
  }
  const projects = [...byProject.keys()].sort();
  await writeFile(
    join(indexDir, 'index.html'),
    _page(
      'Simple index',
      projects.map((project) => ({ href: `${project}/`, text: project })),
    ),
  );
  for (const project of projects) {
    const links: { href: string; text: string }[] = [];
    for (const path of (byProject.get(project) ?? []).sort()) {
      const sha256 = createHash('sha256')
        .update(await readFile(path))
        .digest('hex');
      links.push({ href: `../../files/${basename(path)}#sha256=${sha256}`, text: basename(path) });
    }
    await mkdir(join(indexDir, project), { recursive: true });
    await writeFile(join(indexDir, project, 'index.html'), _page(`Links for ${project}`, links));
  }
}

/** Builds (or, when nothing changed, keeps) the demo index in outDir. */
export async function buildDemoIndex(options: BuildDemoIndexOptions): Promise<BuildDemoIndexResult> {
  const outDir = resolve(options.outDir);
  const indexDir = join(outDir, 'simple');
  const filesDir = join(outDir, 'files');
  const sources: { dir: string; origin: 'demo' | 'test' }[] = [
    ...(await _packageDirs(DEMO_PACKAGES_DIR)).map((dir) => ({ dir, origin: 'demo' as const })),
    ...(options.include === 'all'
      ? (await _packageDirs(TEST_PACKAGES_DIR)).map((dir) => ({ dir, origin: 'test' as const }))
      : []),
  ];
  const fixtures = await Promise.all(
    sources.map(async ({ dir, origin }) => ({ pkg: await readFixturePackage(dir), origin })),
  );
  const buildDeps =
    options.buildDepsDir === undefined ? [] : await _buildDepWheels(resolve(options.buildDepsDir));
  const hash = await _contentHash(fixtures, buildDeps);

  const stamp = await _readStamp(outDir);
  if (stamp !== undefined && stamp.hash === hash) {
    const packages = stamp.packages.map((pkg) => ({
      ...pkg,
      files: pkg.files.map((file) => join(filesDir, file)),
    }));
    if (await _allExist([join(indexDir, 'index.html'), ...packages.flatMap((pkg) => pkg.files)])) {
      return { indexDir, filesDir, packages, built: false };
    }
  }

  // Only our own two folders are replaced: outDir may hold other things.
  await rm(join(outDir, STAMP_FILE), { force: true });
  await rm(indexDir, { recursive: true, force: true });
  await rm(filesDir, { recursive: true, force: true });
  await mkdir(indexDir, { recursive: true });
  await mkdir(filesDir, { recursive: true });

  const packages: IndexedPackage[] = [];
  for (const { pkg, origin } of fixtures) {
    const files: string[] = [];
    if (pkg.manifest.dists.includes('sdist')) files.push(await buildSdist(pkg, filesDir));
    if (pkg.manifest.dists.includes('wheel')) files.push(await buildWheel(pkg, filesDir));
    packages.push({ name: pkg.manifest.name, version: pkg.manifest.version, origin, files });
  }
  for (const dep of buildDeps) {
    await copyFile(dep.path, join(filesDir, basename(dep.path)));
    packages.push({ name: dep.name, version: dep.version, origin: 'build-dep', files: [basename(dep.path)] });
  }
  const absolute = packages.map((pkg) => ({ ...pkg, files: pkg.files.map((file) => join(filesDir, file)) }));
  await _writePages(indexDir, absolute);
  await writeFile(join(outDir, STAMP_FILE), `${JSON.stringify({ hash, packages }, null, 2)}\n`);
  return { indexDir, filesDir, packages: absolute, built: true };
}

async function _main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('build-demo-index')
    .description('Build the local PEP 503 demo index from the fixture sources')
    .argument('<outdir>', 'output folder (simple/ and files/ are written inside)')
    .option('--all', 'also include the ph-test-* fixtures')
    .option(
      '--build-deps <dir>',
      'folder with the setuptools, wheel and packaging wheels (demo/fetch-build-deps.sh)',
    )
    .parse(argv);
  const [outDir = ''] = program.args;
  const opts = z
    .object({ all: z.boolean().optional(), buildDeps: z.string().optional() })
    .parse(program.opts());
  const result = await buildDemoIndex({
    outDir,
    include: opts.all === true ? 'all' : 'demo',
    ...(opts.buildDeps === undefined ? {} : { buildDepsDir: opts.buildDeps }),
  });
  const files = result.packages.reduce((sum, pkg) => sum + pkg.files.length, 0);
  console.log(
    `demo index ${result.built ? 'built' : 'unchanged'}: ${result.packages.length} projects, ${files} files in ${result.indexDir}`,
  );
  if (!result.packages.some((pkg) => pkg.origin === 'build-dep')) {
    console.log(
      'note: no --build-deps given; sdists will not build with build isolation from this index alone',
    );
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await _main(process.argv);
  } catch (error) {
    const failure = toPkghuntError(error);
    console.error(
      `error [${failure.code}]: ${failure.message}${failure.hint ? `\nhint: ${failure.hint}` : ''}`,
    );
    process.exitCode = 1;
  }
}
