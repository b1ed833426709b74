import { z } from 'zod';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { Alert } from '../../core/feed/alert.ts';
import type { SeenRelease } from '../../core/feed/feed-item.ts';
import type { FeedPosition } from '../../core/feed/feed-position.ts';
import type { BehaviourRecord } from '../../core/record/schema.ts';

/**
 * What `pkghunt watch` keeps beside the results, on either engine (watch-state-sqlite.ts,
 * watch-state-postgres.ts; tables in watch-sql.ts). A separate contract from ResultStore: only
 * the watcher needs it.
 *
 * Semantics both keep:
 * - positions are stored per source and replaced whole;
 * - `recordSeen` is idempotent per (ecosystem, project, version) and returns only the releases new
 *   to it (a release without `ecosystem` is PyPI's);
 * - `addAlerts` inserts outbox rows (UNIQUE per alert key and destination: a second insert of the
 *   same alert is a no-op) and marks the release scanned, in ONE transaction;
 * - `claimDue` leases due rows (`leaseMs`) so that two watchers never send the same row at once;
 *   `markSent` only after the receiver answered 2xx; `markFailed` records the error and the next try.
 */
export interface WatchState {
  getPosition(source: string): Promise<FeedPosition | null>;
  savePosition(source: string, position: FeedPosition): Promise<void>;
  recordSeen(releases: readonly SeenRelease[]): Promise<SeenRelease[]>;
  /** Seen releases that have a stored result not yet scanned for alerts, oldest first. */
  unscanned(
    limit: number,
  ): Promise<{ ecosystem: Ecosystem; project: string; version: string; record: BehaviourRecord }[]>;
  addAlerts(
    release: { project: string; version: string; ecosystem?: Ecosystem },
    rows: readonly { alert: Alert; destination: string }[],
  ): Promise<number>;
  claimDue(
    destinations: readonly string[],
    options: { leaseMs: number; limit: number },
  ): Promise<OutboxRow[]>;
  markSent(id: number): Promise<void>;
  markFailed(id: number, options: { error: string; retryAfterMs: number }): Promise<void>;
  counts(): Promise<WatchCounts>;
  close(): Promise<void>;
}

export const OutboxRow = z.object({
  id: z.number().int(),
  destination: z.string(),
  attempts: z.number().int(),
  alert: Alert,
});
export type OutboxRow = z.infer<typeof OutboxRow>;

export interface WatchCounts {
  seen: number;
  analysed: number;
  alertsPending: number;
  alertsSent: number;
  /** Median time from publication to stored verdict over the last 1000 analysed releases, or null. */
  medianLagMs: number | null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
