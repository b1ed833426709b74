import { openSqliteDashboardStore } from '../adapters/store/triage-sqlite.ts';
import { toPkghuntError } from '../core/errors.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import { type Decision, decisionsInForce } from '../core/triage/decision.ts';
import {
  buildTriageBaseline,
  EMPTY_TRIAGE_BASELINE,
  type TriageBaseline,
} from '../core/triage/triage-baseline.ts';
import type { RecordSource } from './record-source.ts';

/** How long a baseline is used before the decisions are read again. */
export const TRIAGE_REFRESH_MS = 60_000;

/** A store whose triage decisions feed its scoring (`enrichRecord`, `populationFromStore`). */
export interface TriageFed {
  /** The baseline of the decisions in force, read again at most every TRIAGE_REFRESH_MS. */
  triageBaseline(): Promise<TriageBaseline>;
}

export interface TriageFeedOptions {
  ttlMs?: number;
  now?: () => number;
  /** Hears why the decisions could not be read (the last baseline read, or none, stays in use). */
  onWarning?: (message: string) => void;
}

/**
 * The triage baseline of a store, cached for `ttlMs`: decisions made in the dashboard while a hunt,
 * worker or watch runs apply to the releases it scores after the next read. A store whose
 * decisions cannot be read scores as before (the last baseline, or none), never fails a job.
 */
export function createTriageBaselineCache(
  readDecisions: () => Promise<Decision[]>,
  store: Pick<RecordSource, 'getRecord'>,
  options: TriageFeedOptions = {},
): () => Promise<TriageBaseline> {
  const ttlMs = options.ttlMs ?? TRIAGE_REFRESH_MS;
  const now = options.now ?? Date.now;
  // The record a false positive was about, per decision id (a decision's record does not change).
  const records = new Map<number, BehaviourRecord | null>();
  let current: { baseline: TriageBaseline; readAt: number } | null = null;
  let pending: Promise<TriageBaseline> | null = null;

  async function read(): Promise<TriageBaseline> {
    try {
      const history = await readDecisions();
      const byRelease = new Map<string, BehaviourRecord>();
      for (const d of decisionsInForce(history)) {
        if (d.label !== 'false_positive') continue;
        if (!records.has(d.id)) records.set(d.id, await store.getRecord(d.project, d.version));
        const record = records.get(d.id);
        if (record) byRelease.set(`${d.project}==${d.version}`, record);
      }
      current = { baseline: buildTriageBaseline(history, byRelease), readAt: now() };
    } catch (error) {
      options.onWarning?.(`Cannot read the triage decisions: ${toPkghuntError(error).message}`);
      current = { baseline: current?.baseline ?? EMPTY_TRIAGE_BASELINE, readAt: now() };
    }
    return current.baseline;
  }

  return () => {
    if (current !== null && now() - current.readAt < ttlMs) return Promise.resolve(current.baseline);
    pending ??= read().finally(() => {
      pending = null;
    });
    return pending;
  };
}

/** Adds `triageBaseline()` to a store, reading the decisions with `readDecisions`. */
export function withTriageFeed<S extends Pick<RecordSource, 'getRecord'>>(
  store: S,
  readDecisions: () => Promise<Decision[]>,
  options: TriageFeedOptions = {},
): S & TriageFed {
  return Object.assign(store, {
    triageBaseline: createTriageBaselineCache(readDecisions, store, options),
  });
}

/** Every decision of a store (SQLite file or postgres:// URL), over a connection of its own. */
export async function readStoreDecisions(location: { sqlite: string } | { postgres: string }) {
  // The PostgreSQL driver is loaded for a postgres:// store only (open-store.ts does the same).
  const dashboard =
    'sqlite' in location
      ? openSqliteDashboardStore(location.sqlite)
      : await (await import('../adapters/store/triage-postgres.ts')).openPostgresDashboardStore(
          location.postgres,
        );
  try {
    return await dashboard.allDecisions();
  } finally {
    await dashboard.close();
  }
}
