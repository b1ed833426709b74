import { join } from 'node:path';
import type { Command } from 'commander';
import { cleanupStaleNetns } from '../../adapters/netns/cleanup-stale-netns.ts';
import { cleanupStaleSandboxes } from '../../adapters/sandbox/cleanup-stale-sandboxes.ts';
import { openPostgresStore } from '../../adapters/store/postgres-store.ts';
import type { KeepTraces, TraceBlob } from '../../adapters/store/store.ts';
import type { TracerChoice } from '../../adapters/tracer/tracer.ts';
import { analyze } from '../../app/analyze.ts';
import { traceStoring } from '../../app/hunt.ts';
import { runWorker, type WorkerEvent } from '../../app/run-worker.ts';
import { readStoreDecisions, withTriageFeed } from '../../app/triage-feed.ts';
import { loadConfig } from '../../config.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import {
  keepTracesOption,
  parsePhases,
  phasesOption,
  registryOption,
  tracerOption,
} from './analysis-options.ts';

interface WorkerFlags {
  db: string;
  workers: string;
  indexUrl?: string;
  registry?: string;
  phases: string;
  timeout?: string;
  tracer: TracerChoice;
  keepTraces: KeepTraces;
  traceDir?: string;
  memory?: string;
  pids?: string;
  disk?: string;
  lease?: string;
  retries: string;
  checkInterval: string;
  poll: string;
  json?: boolean;
}

function positive(value: string | undefined, flag: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${flag} ${JSON.stringify(value)}: expected a positive ${integer ? 'integer' : 'number'}`,
    );
  }
  return n;
}

function retries(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new PkghuntError('USAGE', `Cannot use --retries ${JSON.stringify(value)}: expected 0 or more`);
  }
  return n;
}

function describe(event: WorkerEvent): string {
  switch (event.type) {
    case 'worker-ready':
      return `worker: waiting for jobs (${event.concurrency} at a time)`;
    case 'job-start':
      return `worker: ${event.key}: started (attempt ${event.attempt})`;
    case 'job-done':
      return `worker: ${event.key}: ${event.stored ? 'stored' : 'already stored'} in ${(event.durationMs / 1000).toFixed(1)} s`;
    case 'job-failed':
      return `worker: ${event.key}: failed [${event.code}] ${event.final ? '(final)' : '(will retry)'}: ${event.reason}`;
    case 'worker-fatal':
      return `worker: stopping: [${event.code}] ${event.message}`;
    case 'worker-stopping':
      return 'worker: stopping: finishing the running jobs (press Ctrl-C again to quit at once)';
    case 'worker-stopped':
      return 'worker: stopped';
  }
}

async function runWorkerCommand(flags: WorkerFlags): Promise<number> {
  const json = flags.json === true;
  try {
    if (!/^postgres(ql)?:\/\//.test(flags.db)) {
      throw new PkghuntError(
        'USAGE',
        `Cannot use --db ${JSON.stringify(flags.db)}: expected postgres://...`,
        {
          hint: 'Workers share a PostgreSQL queue: give its URL, e.g. postgres://user@host/pkghunt.',
        },
      );
    }
    const config = loadConfig();
    const phases = parsePhases(flags.phases);
    const concurrency = positive(flags.workers, '--workers', true) ?? 1;
    const timeoutS = positive(flags.timeout, '--timeout') ?? config.limits.timeout_s;
    const memory = positive(flags.memory, '--memory');
    const pids = positive(flags.pids, '--pids', true);
    const disk = positive(flags.disk, '--disk');
    // Traces stay on the worker's machine; the results row lists them (sha256) for later reading.
    const traceDir = flags.traceDir ?? join(config.cacheDir, 'traces');
    // A job must outlive its slowest honest run (every phase hitting its timeout, plus set-up).
    const leaseSeconds = positive(flags.lease, '--lease', true) ?? Math.ceil(phases.length * timeoutS + 300);
    // A worker restarted after a crash or SIGKILL undoes what its predecessor left on this host.
    await cleanupStaleSandboxes({ stateDir: config.stateDir });
    await cleanupStaleNetns();
    const db = flags.db;
    const opened = await openPostgresStore(db, {
      leaseSeconds,
      retryLimit: retries(flags.retries),
      maintenanceIntervalSeconds: positive(flags.checkInterval, '--check-interval', true) ?? 30,
      pollingIntervalSeconds: Math.max(0.5, positive(flags.poll, '--poll') ?? 2),
    });
    // False positives and confirmed releases from the dashboard feed this worker's scoring.
    const store = withTriageFeed(opened, () => readStoreDecisions({ postgres: db }), {
      onWarning: (message) => process.stderr.write(`pkghunt worker: ${message}\n`),
    });
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (): void => {
      signals += 1;
      if (signals === 1) controller.abort();
      // The second Ctrl-C quits at once; the running jobs go back to the queue when their lease ends.
      else process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let fatal = false;
    try {
      await runWorker(store, {
        concurrency,
        signal: controller.signal,
        drainMs: leaseSeconds * 1000,
        analyze: async (requested) => {
          const traces: TraceBlob[] = [];
          const record = await analyze(requested, {
            config,
            phases,
            tracer: flags.tracer,
            timeoutS,
            ...(flags.indexUrl !== undefined ? { indexUrl: flags.indexUrl } : {}),
            // npm jobs (`hunt --ecosystem npm`) read the registry of this machine.
            ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
            limits: {
              ...(memory !== undefined ? { memory_mb: memory } : {}),
              ...(pids !== undefined ? { pids } : {}),
              ...(disk !== undefined ? { disk_mb: disk } : {}),
            },
            ...traceStoring(traceDir, flags.keepTraces, traces),
          });
          return { record, traces };
        },
        onEvent: (event) => {
          if (event.type === 'worker-fatal') fatal = true;
          if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
          else process.stderr.write(`${describe(event)}\n`);
        },
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return fatal ? EXIT.FAILURE : EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerWorker(program: Command, setExit: (code: number) => void): void {
  program
    .command('worker')
    .description(
      'Take packages from a PostgreSQL queue (filled by `hunt --db postgres://...`) and analyse them, on any number of machines',
    )
    .requiredOption('--db <url>', 'PostgreSQL URL of the shared queue and results, postgres://user@host/db')
    .option('--workers <k>', 'sandboxes at once on this machine', '1')
    .option(
      '--index-url <url>',
      "package index (PEP 503/691) to take releases from; default: pip's configured index",
    )
    .addOption(registryOption())
    .addOption(phasesOption())
    .option('--timeout <seconds>', 'wall-clock limit per phase (default 300, or PKGHUNT_TIMEOUT)')
    .addOption(tracerOption('strace'))
    .addOption(keepTracesOption())
    .option('--trace-dir <dir>', 'where this machine keeps the compressed traces (default <cache>/traces)')
    .option('--memory <mb>', 'memory limit for each sandbox in MiB (default 2048)')
    .option('--pids <n>', 'maximum number of processes in each sandbox (default 512)')
    .option('--disk <mb>', 'size of each sandbox file system in MiB (default 2048)')
    .option(
      '--lease <seconds>',
      'how long a job stays with this worker before it goes back to the queue if the worker dies (default: phases x timeout + 300); used when this worker creates the queue',
    )
    .option(
      '--retries <n>',
      'retries of a failed package, with doubling back-off, when creating the queue',
      '2',
    )
    .option('--check-interval <seconds>', 'how often expired leases are looked for', '30')
    .option('--poll <seconds>', 'how often an idle worker asks for a job (at least 0.5)', '2')
    .option('--json', 'print one JSON event per line on stdout instead of log lines on stderr')
    .addHelpText(
      'after',
      `
SIGTERM or Ctrl-C stops taking jobs and finishes the running ones; a second one quits at once.
A worker killed outright loses nothing: its jobs go back to the queue when their lease ends.

Examples:
  pkghunt worker --db postgres://pkghunt@db.internal/pkghunt --workers 2`,
    )
    .action(async (flags: WorkerFlags) => {
      setExit(await runWorkerCommand(flags));
    });
}
