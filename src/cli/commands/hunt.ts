import type { Command } from 'commander';
import { cleanupStaleNetns } from '../../adapters/netns/cleanup-stale-netns.ts';
import { cleanupStaleSandboxes } from '../../adapters/sandbox/cleanup-stale-sandboxes.ts';
import type { Job, KeepTraces } from '../../adapters/store/store.ts';
import type { TracerChoice } from '../../adapters/tracer/tracer.ts';
import { hunt } from '../../app/hunt.ts';
import { openStore } from '../../app/open-store.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { toPkghuntError } from '../../core/errors.ts';
import { createNdjsonReporter } from '../../reporter/ndjson-reporter.ts';
import { createProgressBarReporter } from '../../reporter/progress-bar-reporter.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { isoDate, positiveInteger, positiveNumber } from '../parse-flags.ts';
import { readNames } from '../read-names.ts';
import { renderTable } from '../render-table.ts';
import { resolveEcosystemIndex } from '../resolve-ecosystem-index.ts';
import {
  ecosystemOption,
  keepTracesOption,
  parsePhases,
  phasesOption,
  registryOption,
  tracerOption,
} from './analysis-options.ts';
import { renderStudyTables, studyTables } from './study-tables.ts';

interface HuntFlags {
  ecosystem: Ecosystem;
  indexUrl?: string;
  registry?: string;
  search?: string;
  db?: string;
  limit?: string;
  from?: string;
  match?: string;
  since?: string;
  allVersions?: boolean;
  workers: string;
  json?: boolean;
  timeout?: string;
  maxAttempts: string;
  leaseSeconds?: string;
  retryDelay?: string;
  tracer: TracerChoice;
  keepTraces: KeepTraces;
  phases: string;
}

function renderFailed(failed: readonly Job[]): string {
  if (failed.length === 0) return '';
  return renderTable(
    failed.map((j) => ({
      ...(j.ecosystem === 'npm' ? { ecosystem: j.ecosystem } : {}),
      project: j.project,
      version: j.version,
      attempts: j.attempts,
      reason: j.lastError,
    })),
    { title: '\nFailed packages:' },
  );
}

function failedJson(
  failed: readonly Job[],
): { ecosystem: Ecosystem; project: string; version: string; reason: string | null }[] {
  return failed.map((j) => ({
    ecosystem: j.ecosystem,
    project: j.project,
    version: j.version,
    reason: j.lastError,
  }));
}

async function runHunt(flags: HuntFlags): Promise<number> {
  const json = flags.json === true;
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      if (!json)
        process.stderr.write(
          '\npkghunt: stopping: destroying the running sandboxes (again to quit at once)\n',
        );
      controller.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const config = loadConfig();
    const workers = positiveInteger(flags.workers, '--workers') ?? 1;
    const maxAttempts = positiveInteger(flags.maxAttempts, '--max-attempts') ?? 3;
    const limit = positiveInteger(flags.limit, '--limit');
    const timeoutS = positiveNumber(flags.timeout, '--timeout');
    const leaseS = positiveNumber(flags.leaseSeconds, '--lease-seconds');
    const retryS = positiveNumber(flags.retryDelay, '--retry-delay');
    const since = isoDate(flags.since, '--since');
    const ecosystem = flags.ecosystem;
    const names = flags.from !== undefined ? await readNames(flags.from, ecosystem) : undefined;
    // PyPI: the simple index; npm: the registry (its package documents are what the hunt reads).
    const indexUrl = await resolveEcosystemIndex(ecosystem, flags);
    const search = flags.search !== undefined ? { search: flags.search } : {};
    const selection = {
      ...(names !== undefined ? { names } : {}),
      ...(flags.match !== undefined ? { match: flags.match } : {}),
      ...(limit !== undefined ? { limit } : {}),
    };
    if (flags.db !== undefined && /^postgres(ql)?:\/\//.test(flags.db)) {
      // Loaded only here: the PostgreSQL driver and queue cost every SQLite hunt its start-up.
      const { huntOnPostgres } = await import('./hunt-postgres.ts');
      const result = await huntOnPostgres({
        db: flags.db,
        indexUrl,
        ecosystem,
        ...search,
        selection,
        allVersions: flags.allVersions === true,
        since,
        json,
        signal: controller.signal,
      });
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ type: 'summary', ...result, failed: failedJson(result.failed) })}\n`,
        );
      } else {
        if (result.tables !== null) process.stdout.write(renderStudyTables(result.tables));
        process.stdout.write(renderFailed(result.failed));
      }
      return result.interrupted ? EXIT.INTERRUPTED : EXIT.OK;
    }
    const { store, traceDir } = await openStore(flags.db, config);
    try {
      // A hunt resumed after a crash or SIGKILL undoes what its predecessor left on this host.
      await cleanupStaleSandboxes({ stateDir: config.stateDir });
      await cleanupStaleNetns();
      const summary = await hunt(store, {
        config,
        indexUrl,
        ecosystem,
        ...search,
        selection,
        ...(flags.allVersions ? { allVersions: true } : {}),
        ...(since !== undefined ? { since } : {}),
        workers,
        maxAttempts,
        ...(timeoutS !== undefined ? { timeoutS } : {}),
        ...(leaseS !== undefined ? { leaseMs: leaseS * 1000 } : {}),
        ...(retryS !== undefined ? { retryBaseMs: retryS * 1000 } : {}),
        traceDir,
        keepTraces: flags.keepTraces,
        tracer: flags.tracer,
        phases: parsePhases(flags.phases),
        reporter: json ? createNdjsonReporter(process.stdout) : createProgressBarReporter(),
        signal: controller.signal,
      });
      const tables = await studyTables(store, { ecosystem });
      const failed = (await store.failedJobs()).filter((j) => j.ecosystem === ecosystem);
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ type: 'summary', ...summary, failed: failedJson(failed), tables })}\n`,
        );
      } else {
        process.stdout.write(renderStudyTables(tables));
        process.stdout.write(renderFailed(failed));
      }
      return summary.interrupted ? EXIT.INTERRUPTED : EXIT.OK;
    } finally {
      await store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerHunt(program: Command, setExit: (code: number) => void): void {
  program
    .command('hunt')
    .description(
      'Analyse a selection of the index (latest releases by default), K sandboxes at once; resumable',
    )
    .addOption(ecosystemOption('pypi, or npm (the registry of --registry)', 'pypi'))
    .option('--index-url <url>', "PyPI: package index; default: pip's configured index")
    .addOption(registryOption())
    .option(
      '--search <text>',
      'npm over http(s), when the store has no npm package yet: list the results of /-/v1/search?text=TEXT (no complete list exists)',
    )
    .option(
      '--db <file|url>',
      'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db), or postgres://... to coordinate `pkghunt worker`s',
    )
    .option('--limit <n>', 'at most N projects (in name order)')
    .option(
      '--from <file>',
      'only the projects named in FILE, one per line (npm: added to the store as they are)',
    )
    .option('--match <glob>', "only projects whose normalised name matches the glob, e.g. 'django-*'")
    .option('--since <date>', 'only releases uploaded since DATE (YYYY-MM-DD)')
    .option('--all-versions', "also analyse a project's older final releases")
    .option('--workers <k>', 'sandboxes at once', '1')
    .option('--json', 'NDJSON events on stdout instead of the progress bar, then a summary object')
    .option('--timeout <seconds>', 'wall-clock limit per phase (default 300, or PKGHUNT_TIMEOUT)')
    .option('--max-attempts <n>', 'attempts per package before it ends failed', '3')
    .option(
      '--lease-seconds <s>',
      "how long a running job stays a dead hunt's before it is retried (default 600)",
    )
    .option('--retry-delay <s>', 'delay before the first retry, doubling each time (default 30)')
    .addOption(phasesOption())
    .addOption(tracerOption('strace'))
    .addOption(keepTracesOption())
    .addHelpText(
      'after',
      `
Re-running the same command resumes: finished packages are skipped, interrupted ones retried.
Ctrl-C (or SIGTERM) destroys the running sandboxes and hands their jobs back; twice quits at once.
Exit codes: 0 finished (whatever the packages did), 1 failure, 2 bad usage, 130 interrupted.

Examples:
  pkghunt hunt --workers 2 --limit 100
  pkghunt hunt --index-url file://$PWD/.cache/demo-index/simple --match 'ph-demo-*' --workers 2
  pkghunt hunt --ecosystem npm --from watchlist.txt --workers 2
  pkghunt hunt --ecosystem npm --registry /tmp/npm-registry --match 'ph-npm-*'`,
    )
    .action(async (flags: HuntFlags) => {
      setExit(await runHunt(flags));
    });
}
