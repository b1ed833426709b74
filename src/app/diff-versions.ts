import { hostname } from 'node:os';
import type { Job, ResultStore, Store } from '../adapters/store/store.ts';
import { recordFacts } from '../core/behaviour/record-facts.ts';
import { diffRecords, type RecordDiff } from '../core/diff/diff-records.ts';
import { PkghuntError } from '../core/errors.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import { enrichRecord } from './enrich-record.ts';

export interface DiffVersionsOptions {
  /** Analyses NAME==VERSION (app/analyze with the command's options); null: never analyse (--no-analyze). */
  analyze: ((requested: string) => Promise<BehaviourRecord>) | null;
  /**
   * Stores a record analysed for the diff, the engine's way: `saveThroughQueue` on SQLite,
   * PostgresStore.storeResult on PostgreSQL. One result per (project, version) either way.
   */
  save: (project: string, version: string, record: BehaviourRecord) => Promise<void>;
}

export interface DiffVersionsResult {
  diff: RecordDiff;
  /** Versions that were not in the store and were analysed (and stored) for this diff. */
  analysed: string[];
}

/** Jobs of others we may hold while looking for ours before giving up (a store mid-hunt). */
const MAX_HELD = 200;
const LEASE_MS = 120_000;

/**
 * Stores a record analysed outside a hunt, through the job queue so that the store's rules hold
 * (one result per (project, version), stored with its job in one transaction). `claim` takes the
 * oldest claimable job, which may be another's: those are held (not run) until ours comes up, then
 * handed back untouched.
 */
export async function saveThroughQueue(
  store: Store,
  project: string,
  version: string,
  record: BehaviourRecord,
): Promise<void> {
  await store.enqueue([{ project, version }], { maxAttempts: 1, requeueFailed: true });
  const worker = `${hostname()}-${process.pid}-diff`;
  const held: Job[] = [];
  try {
    while (held.length <= MAX_HELD) {
      const job = await store.claim(worker, { leaseMs: LEASE_MS });
      if (job === null) break;
      if (job.project === project && job.version === version) {
        await store.complete(job.id, worker, { record, facts: recordFacts(record), traces: [] });
        return;
      }
      held.push(job);
    }
  } finally {
    for (const job of held) await store.release(job.id, worker);
  }
  throw new PkghuntError(
    'STORE_UNAVAILABLE',
    `Cannot store the analysis of ${project}==${version}: its job is not claimable`,
    {
      hint: 'Another hunt may be running it or many jobs are queued; run the diff again once the hunt is done.',
    },
  );
}

async function _recordFor(
  store: ResultStore,
  project: string,
  version: string,
  options: DiffVersionsOptions,
): Promise<{ record: BehaviourRecord; analysed: boolean }> {
  const stored = await store.getRecord(project, version);
  if (stored !== null) return { record: stored, analysed: false };
  if (options.analyze === null) {
    throw new PkghuntError('PACKAGE_NOT_FOUND', `Cannot find ${project}==${version} in the store`, {
      hint: 'Run without --no-analyze to analyse it now, or hunt it first.',
    });
  }
  const analysed = await options.analyze(`${project}==${version}`);
  const record = await enrichRecord(analysed, { store, population: null });
  await options.save(project, version, record);
  return { record, analysed: true };
}

/** The behaviour diff between two versions of a project, analysing (and storing) those the store lacks. */
export async function diffVersions(
  store: ResultStore,
  target: { name: string; from: string; to: string },
  options: DiffVersionsOptions,
): Promise<DiffVersionsResult> {
  const project = normalizeName(target.name);
  const a = await _recordFor(store, project, target.from, options);
  const b = await _recordFor(store, project, target.to, options);
  return {
    diff: diffRecords(a.record, b.record),
    analysed: [...(a.analysed ? [target.from] : []), ...(b.analysed ? [target.to] : [])],
  };
}
