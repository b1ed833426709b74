/**
 * `make bench`: how much the sandbox and the tracer cost over a bare pip install, and what an
 * empty sandbox costs to set up and tear down. Prints the "## Analyze overhead" Markdown section
 * on stdout (scripts/bench.sh writes it into docs/BENCHMARKS.md); progress goes to stderr.
 * CLI: node --import tsx bench/analyze-overhead.ts [--rounds 5] [--lifecycle 20] [--packages a,b]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { cleanupStaleNetns } from '../src/adapters/netns/cleanup-stale-netns.ts';
import { startIndexProxy } from '../src/adapters/registry/index-proxy.ts';
import { sharedBpftraceDaemon } from '../src/adapters/tracer/bpftrace-daemon.ts';
import { analyze } from '../src/app/analyze.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { bareInstall, HOST_PYTHON } from './bare-install.ts';
import { BENCH_PACKAGES } from './bench-packages.ts';
import { DEFAULT_BENCH_INDEX_DIR, readBenchIndexManifest } from './build-bench-index.ts';
import {
  type InstallSample,
  type ReportInput,
  renderOverheadReport,
  VARIANTS,
  type Variant,
} from './render-overhead-report.ts';
import { type LifecycleSample, timeSandboxLifecycle } from './sandbox-lifecycle.ts';
import { interleave } from './stats.ts';
import { startTcpForwarder } from './tcp-forwarder.ts';

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function machineInfo(): Promise<ReportInput['machine']> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU';
  let python = 'Python ?';
  try {
    python = execFileSync(HOST_PYTHON, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as unknown; the runs themselves fail loudly if Python is missing.
  }
  return {
    nproc: availableParallelism(),
    cpuModel: model,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.versions.node,
    python,
  };
}

async function loadAverage(): Promise<string> {
  const raw = await readFile('/proc/loadavg', 'utf8').catch(() => '');
  return raw.split(' ').slice(0, 3).join(' ') || '?';
}

type Runner = (pkg: string, variant: Variant) => Promise<Omit<InstallSample, 'round'>>;

function makeRunner(config: Config, sandboxIndexUrl: string, bareIndexUrl: string): Runner {
  return async (pkg, variant) => {
    if (variant === 'bare') {
      // pip started as the sandbox's runner starts it: the same pip work on both sides.
      const r = await bareInstall(pkg, { indexUrl: bareIndexUrl, likeRunner: true });
      return {
        pkg,
        variant,
        ok: r.ok,
        wallMs: r.wallMs,
        innerMs: r.innerMs,
        note: r.ok ? null : `pip exited ${r.exitCode}: ${r.stderrTail.trim().split('\n').at(-1) ?? ''}`,
      };
    }
    const started = performance.now();
    try {
      const record = await analyze(pkg, {
        config,
        indexUrl: sandboxIndexUrl,
        phases: ['install'],
        tracer: variant === 'sandbox' ? 'none' : variant,
      });
      const wallMs = performance.now() - started;
      const phase = record.phases.install;
      const ok = phase?.status === 'completed';
      return {
        pkg,
        variant,
        ok,
        wallMs,
        innerMs: phase?.duration_ms ?? wallMs,
        note: ok ? null : `install ${phase?.status}: ${phase?.reason ?? ''}`,
      };
    } catch (error) {
      return {
        pkg,
        variant,
        ok: false,
        wallMs: performance.now() - started,
        innerMs: 0,
        note: error instanceof Error ? error.message : String(error),
      };
    }
  };
}

async function main(): Promise<void> {
  const program = new Command('analyze-overhead')
    .option('--rounds <n>', 'measured rounds per package and variant', '5')
    .option('--lifecycle <n>', 'empty sandbox set-up/tear-down cycles (0: skip)', '20')
    .option('--packages <list>', 'comma-separated subset of bench/bench-packages.ts')
    .option('--no-installs', 'skip the install comparison')
    .option('--index-dir <dir>', 'the bench index', DEFAULT_BENCH_INDEX_DIR)
    .option('--command <text>', 'the command line shown in the report')
    .option('--save-raw <file>', 'also write every sample (JSON) to FILE')
    .parse();
  const opts = program.opts<{
    rounds: string;
    lifecycle: string;
    packages?: string;
    installs: boolean;
    indexDir: string;
    command?: string;
    saveRaw?: string;
  }>();
  const rounds = Number.parseInt(opts.rounds, 10);
  const cycles = Number.parseInt(opts.lifecycle, 10);
  if (process.getuid?.() !== 0)
    throw new Error('Cannot run the benchmarks: they need root (netns, nftables)');
  const config = loadConfig(process.env);
  await cleanupStaleNetns().catch(() => undefined);
  const manifest = await readBenchIndexManifest(opts.indexDir);
  const wanted = opts.packages?.split(',').map((p) => p.trim()) ?? null;
  const packages = BENCH_PACKAGES.filter((p) => wanted === null || wanted.includes(p.name)).flatMap((p) => {
    const entry = manifest.entries.find((e) => e.project === p.name);
    return entry === undefined ? [] : [{ name: p.name, file: entry.filename, why: p.why }];
  });
  const notes = manifest.missing.map(
    (m) => `${m.project} is not in the bench index (${m.reason}); benched without it.`,
  );

  const loadBefore = await loadAverage();
  // The bpftrace variant shares one long-lived bpftrace, as a hunt worker does: time its start-up once.
  const bpfStart = performance.now();
  await sharedBpftraceDaemon().ready();
  notes.push(
    `bpftrace start-up (once per pkghunt process, not in the table): ${((performance.now() - bpfStart) / 1000).toFixed(2)} s.`,
  );
  const installs: InstallSample[] = [];
  if (opts.installs && packages.length > 0) {
    const indexDir = join(opts.indexDir, 'simple');
    const socketDir = join(config.stateDir, 'sockets');
    await mkdir(socketDir, { recursive: true, mode: 0o700 });
    const proxy = await startIndexProxy({
      indexUrl: `${pathToFileURL(indexDir).href}/`,
      socketPath: join(socketDir, `pkghunt-bench-${process.pid}.sock`),
      cacheDir: join(config.cacheDir, 'artifacts'),
    });
    const forwarder = await startTcpForwarder(proxy.socketPath);
    try {
      const run = makeRunner(config, indexDir, `http://127.0.0.1:${forwarder.port}/simple/`);
      for (let round = 0; round <= rounds; round++) {
        // Round 0 warms the artifact cache, the page cache and Python's bytecode: discarded.
        const label = round === 0 ? 'warm-up' : `round ${round}/${rounds}`;
        for (const [i, pkg] of packages.entries()) {
          for (const variant of interleave(VARIANTS, round, i)) {
            const sample = await run(pkg.name, variant);
            log(
              `${label} ${pkg.name} ${variant}: ${(sample.wallMs / 1000).toFixed(2)} s` +
                `${sample.ok ? '' : ` FAILED ${sample.note}`}`,
            );
            if (round > 0) installs.push({ ...sample, round });
          }
        }
      }
    } finally {
      await forwarder.close();
      await proxy.close();
    }
  }

  const lifecycle: LifecycleSample[] = [];
  for (let i = 0; i < cycles; i++) {
    const sample = await timeSandboxLifecycle(config, `bench-${i}-${randomBytes(3).toString('hex')}`);
    log(
      `lifecycle ${i + 1}/${cycles}: ${sample.totalMs.toFixed(0)} ms${sample.ok ? '' : ` FAILED ${sample.note}`}`,
    );
    lifecycle.push(sample);
  }

  notes.push(
    `Load average (1, 5, 15 min) before: ${loadBefore}, after: ${await loadAverage()} ` +
      '(2 CPUs: above ~1 means other work competed with the runs).',
  );
  const input: ReportInput = {
    command:
      opts.command ?? `node --import tsx bench/analyze-overhead.ts ${process.argv.slice(2).join(' ')}`.trim(),
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    machine: await machineInfo(),
    rounds,
    packages,
    installs,
    lifecycle,
    notes,
  };
  if (opts.saveRaw !== undefined) {
    await mkdir(dirname(opts.saveRaw), { recursive: true });
    await writeFile(opts.saveRaw, `${JSON.stringify(input, null, 2)}\n`);
  }
  process.stdout.write(renderOverheadReport(input));
}

await main();
