/**
 * `make bench`: packages per minute of `bin/pkghunt hunt --workers 1|2` against bare pip installs
 * of the same benign packages at the same concurrency, interleaved over a few rounds, each hunt in
 * a fresh SQLite store; CPU time (user+sys of each command's whole process tree) and the bytes
 * each stored result takes are kept in the raw file for the storage and estimate sections.
 * Prints the "## Hunt throughput" Markdown section on stdout; progress goes to stderr.
 * CLI: node --import tsx bench/hunt-throughput.ts [--rounds 3] [--save-raw FILE] [--command TEXT]
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { z } from 'zod';
import { cleanupStaleNetns } from '../src/adapters/netns/cleanup-stale-netns.ts';
import { startIndexProxy } from '../src/adapters/registry/index-proxy.ts';
import { traceBlobPath } from '../src/adapters/store/trace-blobs.ts';
import { loadConfig, PROJECT_ROOT } from '../src/config.ts';
import { BENCH_PACKAGES } from './bench-packages.ts';
import { DEFAULT_BENCH_INDEX_DIR, readBenchIndexManifest } from './build-bench-index.ts';
import { loadAverage, log, machineLine, runAccounted, utcNow, writeFileMaking } from './hunt-common.ts';
import type { ProfileRun, RunSample, StoredRow, ThroughputRaw } from './hunt-raw.ts';
import { fastestTracer, renderThroughput } from './hunt-throughput-report.ts';
import { interleave } from './stats.ts';
import { startTcpForwarder } from './tcp-forwarder.ts';

const TSX = join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const PKGHUNT = join(PROJECT_ROOT, 'bin', 'pkghunt');

const TraceList = z.array(z.object({ sha256: z.string(), bytes: z.number(), storedBytes: z.number() }));

async function duBytes(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (info === null) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await duBytes(join(path, entry));
  return total;
}

function readStore(dbPath: string): StoredRow[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT project, version, length(CAST(record AS BLOB)) AS recordBytes, traces FROM results ORDER BY id',
      )
      .all() as { project: string; version: string | null; recordBytes: number; traces: string }[];
    return rows.map((r) => {
      const traces = TraceList.parse(JSON.parse(r.traces));
      return {
        project: r.project,
        version: r.version,
        recordBytes: r.recordBytes,
        traceBytes: traces.reduce((a, t) => a + t.storedBytes, 0),
        rawTraceBytes: traces.reduce((a, t) => a + t.bytes, 0),
        traceSha256: traces.map((t) => t.sha256),
      };
    });
  } finally {
    db.close();
  }
}

const HuntLine = z.looseObject({
  type: z.string(),
  project: z.string().optional(),
  outcome: z.string().optional(),
});

/**
 * `hunt-<tracer>` runs hunt with both phases; `hunt-<tracer>-install` with `--phases install` only,
 * the same work as bare pip (no import phase).
 */
async function runHunt(
  variant: string,
  workers: number,
  names: readonly string[],
  options: { indexUrl: string; keepTracesIn?: string },
): Promise<Omit<RunSample, 'round' | 'load'>> {
  const installOnly = variant.endsWith('-install');
  const tracer = variant.slice('hunt-'.length).replace(/-install$/, '');
  const indexUrl = options.indexUrl;
  const dir = await mkdtemp('/tmp/pkghunt-bench-hunt-');
  try {
    const list = join(dir, 'packages.txt');
    await writeFile(list, `${names.join('\n')}\n`);
    const db = join(dir, 'hunt.db');
    let firstStart: number | null = null;
    let lastEnd: number | null = null;
    const ends = new Map<string, string>();
    const run = await runAccounted(
      [
        PKGHUNT,
        'hunt',
        '--index-url',
        indexUrl,
        '--db',
        db,
        '--from',
        list,
        '--workers',
        String(workers),
        '--tracer',
        tracer,
        '--max-attempts',
        '1',
        '--json',
        ...(installOnly ? ['--phases', 'install'] : []),
      ],
      {
        tag: `${variant}-${workers}`,
        onLine(line, at) {
          const parsed = HuntLine.safeParse(JSON.parse(line.trim() === '' ? 'null' : line));
          if (!parsed.success) return;
          if (parsed.data.type === 'job-start') firstStart ??= at;
          if (parsed.data.type === 'job-end' && parsed.data.project !== undefined) {
            lastEnd = at;
            ends.set(parsed.data.project, parsed.data.outcome ?? '?');
          }
        },
      },
    );
    const stored = await Promise.resolve()
      .then(() => readStore(db))
      .catch(() => []);
    const done = stored.length;
    const storedNames = new Set(stored.map((r) => r.project));
    const failed = names.filter((n) => !storedNames.has(n)).map((n) => `${n} (${ends.get(n) ?? 'not run'})`);
    const storeDiskBytes =
      (await duBytes(db)) + (await duBytes(`${db}-wal`)) + (await duBytes(join(dir, 'traces')));
    if (options.keepTracesIn !== undefined)
      await rename(join(dir, 'traces'), options.keepTracesIn).catch(() => undefined);
    return {
      variant,
      workers,
      packages: names.length,
      done,
      failed,
      wallS: run.wallMs / 1000,
      jobsS: firstStart !== null && lastEnd !== null ? (lastEnd - firstStart) / 1000 : null,
      cpuS: run.cpuMs === null ? null : run.cpuMs / 1000,
      stored,
      storeDiskBytes,
      note:
        run.code === 0
          ? null
          : `exit ${run.code}: ${run.stderrTail.split('\n').find((l) => l.includes('pkghunt:')) ?? run.stderrTail.slice(-200)}`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ProfileLine = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stage'), project: z.string(), stage: z.string(), ms: z.number() }),
  z.object({ type: z.literal('job'), project: z.string(), ms: z.number() }),
  z.object({
    type: z.literal('summary'),
    wallMs: z.number(),
    startToFirstJobMs: z.number().nullable(),
    nodeCpuMs: z.number().nullable().default(null),
  }),
]);

/**
 * One hunt through bench/hunt-profile.ts (the same app code as `bin/pkghunt hunt`, with analyze's
 * `stage` events recorded): where each job's time goes. Not timed with the rounds.
 */
async function runProfile(
  tracer: string,
  workers: number,
  names: readonly string[],
  indexUrl: string,
): Promise<ProfileRun> {
  const load = await loadAverage();
  const run = await runAccounted(
    [
      process.execPath,
      '--import',
      TSX,
      join(PROJECT_ROOT, 'bench', 'hunt-profile.ts'),
      '--index-url',
      indexUrl,
      '--tracer',
      tracer,
      '--workers',
      String(workers),
      ...names,
    ],
    { tag: `profile-${tracer}-${workers}` },
  );
  const profile: ProfileRun = {
    tracer,
    workers,
    stages: [],
    jobs: [],
    wallMs: run.wallMs,
    startToFirstJobMs: null,
    nodeCpuMs: null,
    load,
  };
  for (const line of run.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = ProfileLine.safeParse(JSON.parse(line));
    if (!parsed.success) continue;
    const item = parsed.data;
    if (item.type === 'stage') profile.stages.push({ project: item.project, stage: item.stage, ms: item.ms });
    else if (item.type === 'job') profile.jobs.push({ project: item.project, ms: item.ms });
    else {
      profile.wallMs = item.wallMs;
      profile.startToFirstJobMs = item.startToFirstJobMs;
      profile.nodeCpuMs = item.nodeCpuMs;
    }
  }
  if (run.code !== 0)
    log(`profile run ${tracer} x${workers} exited ${run.code}: ${run.stderrTail.slice(-300)}`);
  return profile;
}

const BareLine = z.object({ pkg: z.string(), ok: z.boolean(), note: z.string().nullable() });

async function runBare(
  variant: 'bare' | 'bare-runner',
  workers: number,
  names: readonly string[],
  indexUrl: string,
): Promise<Omit<RunSample, 'round' | 'load'>> {
  const run = await runAccounted(
    [
      process.execPath,
      '--import',
      TSX,
      join(PROJECT_ROOT, 'bench', 'hunt-bare-batch.ts'),
      '--index-url',
      indexUrl,
      '--concurrency',
      String(workers),
      ...(variant === 'bare-runner' ? ['--like-runner'] : []),
      ...names,
    ],
    { tag: `${variant}-${workers}` },
  );
  const lines = run.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      const parsed = BareLine.safeParse(JSON.parse(l));
      return parsed.success ? [parsed.data] : [];
    });
  const ok = new Set(lines.filter((l) => l.ok).map((l) => l.pkg));
  return {
    variant,
    workers,
    packages: names.length,
    done: ok.size,
    failed: names.filter((n) => !ok.has(n)),
    wallS: run.wallMs / 1000,
    jobsS: null,
    cpuS: run.cpuMs === null ? null : run.cpuMs / 1000,
    stored: [],
    storeDiskBytes: null,
    note:
      run.code === 0
        ? null
        : `exit ${run.code}: ${
            lines
              .find((l) => !l.ok)
              ?.note?.split('\n')
              .at(-2) ?? run.stderrTail.slice(-200)
          }`,
  };
}

/**
 * What the kept traces of one run would take at brotli's highest quality and largest window
 * (the store uses quality 5 for speed): measured after the timed rounds, off the clock.
 */
async function recompress(
  traceDir: string,
  rows: readonly StoredRow[],
): Promise<ThroughputRaw['recompressed']> {
  const out: ThroughputRaw['recompressed'] = [];
  for (const row of rows) {
    let q11Bytes = 0;
    for (const sha of row.traceSha256) {
      const text = brotliDecompressSync(await readFile(traceBlobPath(traceDir, sha)));
      q11Bytes += brotliCompressSync(text, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_LGWIN]: 24,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: text.length,
        },
      }).length;
    }
    out.push({ project: row.project, recordBytes: row.recordBytes, traceBytes: row.traceBytes, q11Bytes });
  }
  return out;
}

/** Tracers `hunt --tracer` accepts on this checkout, fastest first; bpftrace only if installed. */
function availableTracers(): { tracers: string[]; missing: string[] } {
  const help = execFileSync(PKGHUNT, ['hunt', '--help'], { encoding: 'utf8' });
  const missing: string[] = [];
  const tracers: string[] = [];
  if (/bpftrace/.test(help)) tracers.push('bpftrace');
  else missing.push('bpftrace');
  tracers.push('strace', 'none');
  return { tracers, missing };
}

async function main(): Promise<void> {
  const opts = new Command('hunt-throughput')
    .option('--rounds <n>', 'measured rounds of every variant and worker count', '3')
    .option('--packages <list>', 'comma-separated subset of bench/bench-packages.ts')
    .option('--index-dir <dir>', 'the bench index', DEFAULT_BENCH_INDEX_DIR)
    .option('--command <text>', 'the command line shown in the report')
    .option('--save-raw <file>', 'also write every sample (JSON) to FILE')
    .option(
      '--variants <list>',
      'comma-separated subset of the variants (bare, hunt-strace, ...) for a quick look',
    )
    .option('--no-profile', 'skip the "where a job\'s time goes" profile runs')
    .parse()
    .opts<{
      rounds: string;
      packages?: string;
      indexDir: string;
      command?: string;
      saveRaw?: string;
      variants?: string;
      profile: boolean;
    }>();
  if (process.getuid?.() !== 0)
    throw new Error('Cannot run the benchmarks: they need root (netns, nftables)');
  const rounds = Number.parseInt(opts.rounds, 10);
  const config = loadConfig(process.env);
  await cleanupStaleNetns().catch(() => undefined);
  const manifest = await readBenchIndexManifest(opts.indexDir);
  const wanted = opts.packages?.split(',').map((p) => p.trim()) ?? null;
  const packages = BENCH_PACKAGES.filter((p) => wanted === null || wanted.includes(p.name)).flatMap((p) => {
    const entry = manifest.entries.find((e) => e.project === p.name);
    return entry === undefined ? [] : [{ name: p.name, file: entry.filename, why: p.why }];
  });
  const names = packages.map((p) => p.name);
  const { tracers, missing } = availableTracers();
  const huntIndexUrl = `${pathToFileURL(join(opts.indexDir, 'simple')).href}/`;

  const socketDir = join(config.stateDir, 'sockets');
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  // Bare pip reaches the same index proxy code as sandboxed pip, through a loopback forwarder.
  const proxy = await startIndexProxy({
    indexUrl: huntIndexUrl,
    socketPath: join(socketDir, `pkghunt-bench-hunt-${process.pid}.sock`),
    cacheDir: join(config.cacheDir, 'artifacts'),
  });
  const forwarder = await startTcpForwarder(proxy.socketPath);
  const bareIndexUrl = `http://127.0.0.1:${forwarder.port}/simple/`;
  // The fastest tracer also runs install-only: the same work as bare pip, without the import phase.
  // bare-runner: pip started as the sandbox's runner starts it (the same pip work as the hunt).
  const allVariants = [
    'bare',
    'bare-runner',
    ...tracers.map((t) => `hunt-${t}`),
    `hunt-${tracers[0]}-install`,
  ];
  const only = opts.variants?.split(',').map((v) => v.trim());
  const variants = only === undefined ? allVariants : allVariants.filter((v) => only.includes(v));
  const configs = variants.flatMap((v) => [1, 2].map((workers) => ({ variant: v, workers })));
  const loadBefore = await loadAverage();
  const samples: RunSample[] = [];
  const keptTraces = join(await mkdtemp('/tmp/pkghunt-bench-traces-'), 'traces');
  let kept: StoredRow[] | null = null;
  let recompressed: ThroughputRaw['recompressed'] = [];
  const profiles: ProfileRun[] = [];
  try {
    for (let round = 0; round <= rounds; round++) {
      // Round 0 warms the artifact cache, the page cache and bytecode: discarded, and shortened.
      const order =
        round === 0
          ? configs.filter((c) => c.workers === 2 && c.variant !== 'hunt-none')
          : interleave(configs, round, 0);
      for (const c of order) {
        const load = await loadAverage();
        const result: Omit<RunSample, 'round' | 'load'> =
          c.variant === 'bare' || c.variant === 'bare-runner'
            ? await runBare(c.variant, c.workers, names, bareIndexUrl)
            : await runHunt(c.variant, c.workers, names, {
                indexUrl: huntIndexUrl,
                ...(round > 0 && kept === null && c.variant !== 'hunt-none' && !c.variant.endsWith('-install')
                  ? { keepTracesIn: keptTraces }
                  : {}),
              });
        if (
          round > 0 &&
          kept === null &&
          c.variant !== 'hunt-none' &&
          !c.variant.startsWith('bare') &&
          !c.variant.endsWith('-install')
        )
          kept = result.stored;
        log(
          `${round === 0 ? 'warm-up' : `round ${round}/${rounds}`} ${c.variant} x${c.workers}: ` +
            `${result.done}/${result.packages} in ${result.wallS.toFixed(1)} s, ` +
            `${((result.done / result.wallS) * 60).toFixed(1)} pkg/min, cpu ${result.cpuS?.toFixed(1) ?? '?'} s, load ${load}` +
            `${result.failed.length > 0 ? ` FAILED ${result.failed.join(', ')} ${result.note ?? ''}` : ''}`,
        );
        if (round > 0) samples.push({ ...result, round, load });
      }
    }
    // The profile follows the tracer that was fastest in the timed rounds (2 workers, then 1).
    const fastest = fastestTracer({ variants, samples }).slice('hunt-'.length);
    for (const workers of opts.profile ? [1, 2] : []) {
      log(
        `profiling hunt --tracer ${fastest} x${workers}: where each job's time goes (after the timed rounds)`,
      );
      profiles.push(await runProfile(fastest, workers, names, huntIndexUrl));
    }
    log('recompressing the traces of one traced run at brotli quality 11 (after the timed rounds)');
    recompressed = await recompress(keptTraces, kept ?? []);
  } finally {
    await forwarder.close();
    await proxy.close();
    await rm(dirname(keptTraces), { recursive: true, force: true });
  }
  const raw: ThroughputRaw = {
    command:
      opts.command ?? `node --import tsx bench/hunt-throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: utcNow(),
    machine: machineLine(),
    rounds,
    packages,
    variants,
    tracersMissing: missing,
    samples,
    loadBefore,
    loadAfter: await loadAverage(),
    recompressed,
    profiles,
  };
  if (opts.saveRaw !== undefined) await writeFileMaking(opts.saveRaw, `${JSON.stringify(raw, null, 2)}\n`);
  process.stdout.write(renderThroughput(raw));
}

await main();
