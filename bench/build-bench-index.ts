/**
 * Builds the local index `make bench` installs from: .cache/bench-index/{simple,files}. Live
 * packages are downloaded once with the project's own registry client from the index pip is
 * configured with (never `pip download`, which would run an sdist's build on the host); demo
 * fixtures and the build dependencies are copied from the demo index and .cache/build-deps.
 * CLI: node --import tsx bench/build-bench-index.ts [--out DIR] [--offline]
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { fetchWithRetry } from '../src/adapters/registry/fetch-with-retry.ts';
import { resolveIndexUrl } from '../src/adapters/registry/index-url.ts';
import { getProjectPage, latestRelease } from '../src/adapters/registry/simple-index.ts';
import { PROJECT_ROOT } from '../src/config.ts';
import { PkghuntError } from '../src/core/errors.ts';
import { parseDistFilename } from '../src/core/pypi/dist-filename.ts';
import { normalizeName } from '../src/core/pypi/normalize-name.ts';
import type { ProjectFile } from '../src/core/pypi/project-page.ts';
import { renderSimpleHtml } from '../src/core/pypi/render-simple-html.ts';
import { BENCH_PACKAGES, type BenchPackage, BUILD_DEP_PROJECTS } from './bench-packages.ts';

export const BenchIndexEntry = z.object({
  project: z.string(),
  filename: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  origin: z.enum(['demo', 'build-dep', 'live']),
});
export type BenchIndexEntry = z.infer<typeof BenchIndexEntry>;
export const BenchIndexManifest = z.object({
  entries: z.array(BenchIndexEntry),
  /** Live packages that could not be fetched (index unreachable): the bench runs without them. */
  missing: z.array(z.object({ project: z.string(), reason: z.string() })),
});
export type BenchIndexManifest = z.infer<typeof BenchIndexManifest>;

const MANIFEST = 'bench-index.json';

async function sha256File(path: string): Promise<string | null> {
  const bytes = await readFile(path).catch(() => null);
  return bytes === null ? null : createHash('sha256').update(bytes).digest('hex');
}

function pickFile(files: readonly ProjectFile[], prefer: 'wheel' | 'sdist'): ProjectFile | null {
  if (prefer === 'sdist') return files.find((f) => /\.(tar\.gz|zip)$/.test(f.filename)) ?? null;
  return files.find((f) => /-[^-]*py3[^-]*-none-any\.whl$/.test(f.filename)) ?? null;
}

async function fetchLive(indexUrl: string, pkg: BenchPackage, filesDir: string): Promise<BenchIndexEntry> {
  const page = await getProjectPage(indexUrl, pkg.name, { retries: 2, timeoutMs: 20_000 });
  const release = latestRelease(page);
  const file = pickFile(release.files, pkg.prefer ?? 'wheel');
  if (file === null) {
    throw new PkghuntError(
      'PACKAGE_NOT_FOUND',
      `Cannot find a ${pkg.prefer} of ${pkg.name} ${release.version} on the index`,
    );
  }
  const expected = file.hashes.sha256?.toLowerCase() ?? null;
  const target = join(filesDir, file.filename);
  const present = await sha256File(target);
  if (present !== null && (expected === null || present === expected)) {
    return { project: normalizeName(pkg.name), filename: file.filename, sha256: present, origin: 'live' };
  }
  const response = await fetchWithRetry(file.url, { retries: 2, timeoutMs: 30_000, totalTimeoutMs: 120_000 });
  if (!response.ok) {
    throw new PkghuntError('INDEX_UNREACHABLE', `Cannot fetch ${file.filename}: status ${response.status}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (expected !== null && sha256 !== expected) {
    throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot use ${file.filename}: sha256 mismatch`);
  }
  await writeFile(`${target}.part`, bytes);
  await rename(`${target}.part`, target);
  return { project: normalizeName(pkg.name), filename: file.filename, sha256, origin: 'live' };
}

async function fetchOrMiss(
  indexUrl: string | null,
  pkg: BenchPackage,
  filesDir: string,
  state: { missing: BenchIndexManifest['missing']; previous: readonly BenchIndexEntry[] },
): Promise<BenchIndexEntry[]> {
  // Keeps the files of earlier runs: the bench compares the same releases run after run, and
  // needs no network once they are there.
  const kept = state.previous.find((e) => e.origin === 'live' && e.project === normalizeName(pkg.name));
  if (kept !== undefined && (await sha256File(join(filesDir, kept.filename))) === kept.sha256) return [kept];
  const { missing } = state;
  if (indexUrl === null) {
    missing.push({ project: pkg.name, reason: 'offline and not downloaded before' });
    return [];
  }
  try {
    return [await fetchLive(indexUrl, pkg, filesDir)];
  } catch (error) {
    missing.push({ project: pkg.name, reason: error instanceof Error ? error.message : String(error) });
    return [];
  }
}

async function copyFrom(
  dir: string,
  project: string,
  origin: 'demo' | 'build-dep',
  filesDir: string,
): Promise<BenchIndexEntry> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const wanted = normalizeName(project);
  const filename = names.find((n) => {
    const parsed = parseDistFilename(n, project);
    return parsed !== null && normalizeName(parsed.name) === wanted;
  });
  if (filename === undefined) {
    throw new PkghuntError('PACKAGE_NOT_FOUND', `Cannot find ${project} in ${dir}`, {
      hint: 'Run make setup first (it builds the demo index and fetches the build dependencies).',
    });
  }
  await copyFile(join(dir, filename), join(filesDir, filename));
  const sha256 = (await sha256File(join(filesDir, filename))) ?? '';
  return { project: wanted, filename, sha256, origin };
}

/** Builds (or refreshes) the bench index in `outDir` and returns its manifest. */
export async function buildBenchIndex(options: {
  outDir: string;
  demoFilesDir: string;
  buildDepsDir: string;
  offline?: boolean;
  /** Ask the index for the latest releases again instead of keeping the files of earlier runs. */
  refresh?: boolean;
}): Promise<BenchIndexManifest> {
  const filesDir = join(options.outDir, 'files');
  await mkdir(filesDir, { recursive: true });
  const entries: BenchIndexEntry[] = [];
  const missing: BenchIndexManifest['missing'] = [];
  for (const project of BUILD_DEP_PROJECTS) {
    entries.push(await copyFrom(options.buildDepsDir, project, 'build-dep', filesDir));
  }
  const previous =
    options.refresh === true
      ? []
      : await readBenchIndexManifest(options.outDir).then(
          (m) => m.entries,
          () => [],
        );
  const indexUrl = options.offline === true ? null : await resolveIndexUrl({ env: process.env });
  const state = { missing, previous };
  for (const pkg of BENCH_PACKAGES) {
    if (pkg.origin === 'demo') entries.push(await copyFrom(options.demoFilesDir, pkg.name, 'demo', filesDir));
    if (pkg.origin !== 'live') continue;
    for (const dep of pkg.deps ?? []) {
      const depPkg: BenchPackage = {
        name: dep,
        origin: 'live',
        prefer: 'wheel',
        why: `dependency of ${pkg.name}`,
      };
      entries.push(...(await fetchOrMiss(indexUrl, depPkg, filesDir, state)));
    }
    entries.push(...(await fetchOrMiss(indexUrl, pkg, filesDir, state)));
  }
  const byProject = new Map<string, BenchIndexEntry[]>();
  for (const e of entries) byProject.set(e.project, [...(byProject.get(e.project) ?? []), e]);
  await mkdir(join(options.outDir, 'simple'), { recursive: true });
  for (const [project, files] of byProject) {
    await mkdir(join(options.outDir, 'simple', project), { recursive: true });
    const html = renderSimpleHtml(
      project,
      files.map((f) => ({
        filename: f.filename,
        href: `../../files/${encodeURIComponent(f.filename)}`,
        sha256: f.sha256,
        requiresPython: null,
        yanked: false as const,
      })),
    );
    await writeFile(join(options.outDir, 'simple', project, 'index.html'), html);
  }
  const list = [...byProject.keys()].map((p) => `<a href="${p}/">${p}</a><br/>`).join('\n');
  await writeFile(
    join(options.outDir, 'simple', 'index.html'),
    `<!DOCTYPE html>\n<html><body>\n${list}\n</body></html>\n`,
  );
  const manifest: BenchIndexManifest = { entries, missing };
  await writeFile(join(options.outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Reads the manifest buildBenchIndex wrote. */
export async function readBenchIndexManifest(outDir: string): Promise<BenchIndexManifest> {
  const raw = await readFile(join(outDir, MANIFEST), 'utf8').catch(() => null);
  if (raw === null) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot read ${join(outDir, MANIFEST)}`, {
      hint: 'Build it with: node --import tsx bench/build-bench-index.ts',
    });
  }
  return BenchIndexManifest.parse(JSON.parse(raw));
}

export const DEFAULT_BENCH_INDEX_DIR = join(PROJECT_ROOT, '.cache', 'bench-index');

async function main(): Promise<void> {
  const program = new Command('build-bench-index')
    .option('--out <dir>', 'output directory', DEFAULT_BENCH_INDEX_DIR)
    .option('--offline', 'use no network: only files already there, the demo fixtures and build dependencies')
    .option('--refresh', 'fetch the latest releases again instead of keeping earlier downloads')
    .parse();
  const opts = program.opts<{ out: string; offline?: boolean; refresh?: boolean }>();
  const manifest = await buildBenchIndex({
    outDir: resolve(opts.out),
    demoFilesDir: join(PROJECT_ROOT, '.cache', 'demo-index', 'files'),
    buildDepsDir: join(PROJECT_ROOT, '.cache', 'build-deps'),
    offline: opts.offline === true,
    refresh: opts.refresh === true,
  });
  for (const e of manifest.entries) process.stderr.write(`[bench-index] ${e.origin}: ${e.filename}\n`);
  for (const m of manifest.missing) process.stderr.write(`[bench-index] missing ${m.project}: ${m.reason}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
