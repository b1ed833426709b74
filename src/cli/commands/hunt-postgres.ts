import { listProjects } from '../../adapters/registry/list-projects.ts';
import { type HuntTarget, openPostgresStore, type QueueCounts } from '../../adapters/store/postgres-store.ts';
import { coordinateHunt } from '../../app/coordinate-hunt.ts';
import { PkghuntError } from '../../core/errors.ts';
import { globMatcher } from '../../core/pypi/glob-matcher.ts';

export interface PostgresHuntOptions {
  db: string;
  indexUrl: string;
  names: string[] | undefined;
  match: string | undefined;
  limit: number | undefined;
  json: boolean;
  signal: AbortSignal;
  unsupported: string[];
}

/** The selection as targets: the names given, or the index's project list filtered by --match. */
async function selectTargets(options: PostgresHuntOptions): Promise<HuntTarget[]> {
  const matches = options.match !== undefined ? globMatcher(options.match.toLowerCase()) : () => true;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const targets: HuntTarget[] = [];
  if (options.names !== undefined) {
    for (const name of options.names)
      if (matches(name) && targets.length < limit) targets.push({ name, version: null });
    return targets;
  }
  await listProjects(options.indexUrl, {
    async onBatch(batch) {
      for (const project of batch) {
        if (targets.length < limit && matches(project.normalized))
          targets.push({ name: project.normalized, version: null });
      }
    },
  });
  return targets;
}

function progressLine(counts: QueueCounts, ratePerMin: number): string {
  return `queued ${counts.queued}, running ${counts.running}, done ${counts.done}, failed ${counts.failed} (${ratePerMin.toFixed(1)}/min)`;
}

/**
 * `hunt --db postgres://...`: the coordinator. It enqueues the selection and follows the queue
 * while `pkghunt worker` processes, here or elsewhere, analyse it. Returns the final counts.
 */
export async function huntOnPostgres(
  options: PostgresHuntOptions,
): Promise<{ counts: QueueCounts; interrupted: boolean }> {
  if (options.unsupported.length > 0) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${options.unsupported.join(', ')} with a PostgreSQL store yet`,
      {
        hint: 'Select with --from, --match and --limit; --since and --all-versions need the SQLite store for now.',
      },
    );
  }
  const targets = await selectTargets(options);
  const store = await openPostgresStore(options.db);
  try {
    const counts = await coordinateHunt(store, targets, {
      signal: options.signal,
      onEvent(event) {
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
          return;
        }
        if (event.type === 'hunt-enqueued') {
          process.stderr.write(
            `pkghunt: queued ${event.queued} packages (${event.skipped} already done or queued)\n`,
          );
        } else if (event.type === 'hunt-progress') {
          process.stderr.write(`\r${progressLine(event.counts, event.ratePerMin)}   `);
        } else {
          process.stderr.write(
            `\n${event.interrupted ? 'stopped watching (the queue stays for the workers): ' : 'finished: '}${progressLine(event.counts, 0)}\n`,
          );
        }
      },
    });
    return { counts, interrupted: options.signal.aborted };
  } finally {
    await store.stop();
  }
}
