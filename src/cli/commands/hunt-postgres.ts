import { openPostgresStore, type QueueCounts } from '../../adapters/store/postgres-store.ts';
import type { Job, JobCounts, ProjectSelection, QueryRow } from '../../adapters/store/store.ts';
import { coordinateHunt } from '../../app/coordinate-hunt.ts';
import { scheduleSelection } from '../../app/schedule-selection.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { studyTables } from './study-tables.ts';

export interface PostgresHuntOptions {
  db: string;
  /** PyPI's index, or (npm) the registry; workers read npm packages from their own --registry. */
  indexUrl: string;
  ecosystem: Ecosystem;
  search?: string;
  selection: ProjectSelection;
  allVersions: boolean;
  since: string | undefined;
  json: boolean;
  signal: AbortSignal;
}

export interface PostgresHuntResult {
  counts: JobCounts;
  interrupted: boolean;
  durationMs: number;
  failed: Job[];
  /** The study's tables, once nothing is queued or running (null when interrupted). */
  tables: Record<string, QueryRow[]> | null;
}

function progressLine(counts: QueueCounts, ratePerMin: number): string {
  return `queued ${counts.queued}, running ${counts.running}, done ${counts.done}, failed ${counts.failed} (${ratePerMin.toFixed(1)}/min)`;
}

function jobCounts(counts: QueueCounts): JobCounts {
  return { pending: counts.queued, running: counts.running, done: counts.done, failed: counts.failed };
}

/**
 * `hunt --db postgres://...`: the coordinator. It selects and schedules exactly as the SQLite hunt
 * does (same --limit/--from/--match/--since/--all-versions, releases stored in the same tables),
 * enqueues NAME==VERSION jobs, and follows the queue while `pkghunt worker` processes, here or
 * elsewhere, analyse them.
 */
export async function huntOnPostgres(options: PostgresHuntOptions): Promise<PostgresHuntResult> {
  const started = Date.now();
  const store = await openPostgresStore(options.db);
  const log = (text: string): void => {
    if (!options.json) process.stderr.write(text);
  };
  try {
    const jobs = await scheduleSelection(store, {
      indexUrl: options.indexUrl,
      ecosystem: options.ecosystem,
      ...(options.search !== undefined ? { search: options.search } : {}),
      selection: options.selection,
      ...(options.allVersions ? { allVersions: true } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
      signal: options.signal,
    });
    const counts = await coordinateHunt(
      store,
      jobs.map((j) => ({
        name: j.project,
        version: j.version,
        ...(j.ecosystem === 'npm' ? { ecosystem: j.ecosystem } : {}),
      })),
      {
        signal: options.signal,
        onEvent(event) {
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
          } else if (event.type === 'hunt-enqueued') {
            log(`pkghunt: queued ${event.queued} releases (${event.skipped} already done or queued)\n`);
          } else if (event.type === 'hunt-progress') {
            log(`\r${progressLine(event.counts, event.ratePerMin)}   `);
          } else {
            log(
              `\n${event.interrupted ? 'stopped watching (the queue stays for the workers): ' : 'finished: '}${progressLine(event.counts, 0)}\n`,
            );
          }
        },
      },
    );
    const interrupted = options.signal.aborted;
    return {
      counts: jobCounts(counts),
      interrupted,
      durationMs: Date.now() - started,
      failed: (await store.failedJobs()).filter((j) => j.ecosystem === options.ecosystem),
      tables: interrupted ? null : await studyTables(store, { ecosystem: options.ecosystem }),
    };
  } finally {
    await store.stop();
  }
}
