/**
 * Where a hunt job's time goes: runs `hunt` (the same app code as `bin/pkghunt hunt`) on a fresh
 * SQLite store with an `analyze` that reports its `stage` events, and times what the job pool does
 * around it (enriching the record, storing it). Prints one JSON line per stage of each package
 * (`{"type":"stage","project","stage","ms"}`), then one per job and one summary line.
 * CLI: node --import tsx bench/hunt-profile.ts --index-url URL --tracer T [--workers 1]
 *      [--phases install,import] PKG...
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { cleanupStaleNetns } from '../src/adapters/netns/cleanup-stale-netns.ts';
import { cleanupStaleSandboxes } from '../src/adapters/sandbox/cleanup-stale-sandboxes.ts';
import type { Store } from '../src/adapters/store/store.ts';
import type { TracerChoice } from '../src/adapters/tracer/tracer.ts';
import { analyze } from '../src/app/analyze.ts';
import { hunt } from '../src/app/hunt.ts';
import { openStore } from '../src/app/open-store.ts';
import { loadConfig } from '../src/config.ts';
import type { PhaseName } from '../src/core/record/schema.ts';
import type { Reporter } from '../src/reporter/reporter.ts';

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The store with `complete` timed (the SQLite transaction: record, facts, job done). */
function timedStore(store: Store, onComplete: (jobId: number, ms: number, startedAt: number) => void): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (property !== 'complete') return value.bind(target);
      return async (...args: unknown[]) => {
        const startedAt = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          onComplete(args[0] as number, performance.now() - startedAt, startedAt);
        }
      };
    },
  });
}

async function main(): Promise<void> {
  const program = new Command('hunt-profile')
    .requiredOption('--index-url <url>', 'the index')
    .option('--tracer <t>', 'strace | bpftrace | none', 'bpftrace')
    .option('--workers <k>', 'analyses at once', '1')
    .option('--phases <list>', 'install,import or install', 'install,import')
    .argument('<packages...>')
    .parse();
  const opts = program.opts<{ indexUrl: string; tracer: string; workers: string; phases: string }>();
  const names = program.processedArgs[0] as string[];
  const config = loadConfig(process.env);
  const dir = await mkdtemp('/tmp/pkghunt-bench-profile-');
  const started = performance.now();
  const { store, traceDir } = await openStore(join(dir, 'hunt.db'), config);
  try {
    await cleanupStaleSandboxes({ stateDir: config.stateDir });
    await cleanupStaleNetns();
    await writeFile(join(dir, 'packages.txt'), `${names.join('\n')}\n`);
    const analyzedAt = new Map<string, number>();
    let firstJobAt: number | null = null;
    let lastJobEndAt = 0;
    const reporter: Reporter = {
      report(event) {
        if (event.type === 'job-start') {
          firstJobAt ??= performance.now();
        }
        if (event.type === 'job-end') {
          lastJobEndAt = performance.now();
          emit({ type: 'job', project: event.project, outcome: event.outcome, ms: event.durationMs });
        }
      },
    };
    const measured = timedStore(store, (_jobId, ms, startedAt) => {
      // complete() runs right after the job's analyze and enrichRecord: match it by time.
      const project = [...analyzedAt.entries()]
        .filter(([, at]) => at <= startedAt)
        .sort((a, b) => b[1] - a[1])[0]?.[0];
      if (project === undefined) return;
      emit({
        type: 'stage',
        project,
        stage: 'enrich',
        ms: startedAt - (analyzedAt.get(project) ?? startedAt),
      });
      emit({ type: 'stage', project, stage: 'store-complete', ms });
      analyzedAt.delete(project);
    });
    const summary = await hunt(measured, {
      config,
      indexUrl: opts.indexUrl,
      selection: { names },
      workers: Number.parseInt(opts.workers, 10),
      maxAttempts: 1,
      traceDir,
      keepTraces: 'reduced',
      tracer: opts.tracer as TracerChoice,
      phases: opts.phases.split(',') as PhaseName[],
      reporter,
      analyze: async (requested, options) => {
        const project = requested.split('==')[0] ?? requested;
        const stageReporter: Reporter = {
          report(event) {
            if (event.type === 'stage')
              emit({ type: 'stage', project, stage: event.stage, ms: event.durationMs });
          },
        };
        const t0 = performance.now();
        try {
          return await analyze(requested, { ...options, reporter: stageReporter });
        } finally {
          analyzedAt.set(project, performance.now());
          emit({ type: 'stage', project, stage: 'analyze', ms: performance.now() - t0 });
        }
      },
    });
    emit({
      type: 'summary',
      done: summary.counts.done,
      failed: summary.counts.failed,
      wallMs: performance.now() - started,
      startToFirstJobMs: firstJobAt === null ? null : firstJobAt - started,
      /** CPU of this node process itself (all its threads: parsing, compression, the store). */
      nodeCpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      jobsMs: firstJobAt === null ? null : lastJobEndAt - firstJobAt,
    });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
