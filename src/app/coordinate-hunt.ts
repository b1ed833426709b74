import type { HuntTarget, PostgresStore, QueueCounts } from '../adapters/store/postgres-store.ts';

export type CoordinatorEvent =
  | { type: 'hunt-enqueued'; queued: number; skipped: number }
  | { type: 'hunt-progress'; counts: QueueCounts; elapsedMs: number; ratePerMin: number }
  | { type: 'hunt-end'; counts: QueueCounts; interrupted: boolean };

export interface CoordinateHuntOptions {
  onEvent?: (event: CoordinatorEvent) => void;
  /** Aborting stops watching; the queued jobs stay for the workers (and the next `hunt`). */
  signal?: AbortSignal;
  pollMs?: number;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The coordinator of a hunt on PostgreSQL: enqueues the selection (packages with a result or a
 * final failure are skipped, queued ones are not queued twice) and reports progress from the
 * database while workers, here or on other machines, work the queue. Returns when nothing is
 * queued or running any more, or when the signal aborts.
 */
export async function coordinateHunt(
  store: PostgresStore,
  targets: readonly HuntTarget[],
  options: CoordinateHuntOptions = {},
): Promise<QueueCounts> {
  const emit = options.onEvent ?? (() => {});
  const started = Date.now();
  const { queued, skipped } = await store.enqueue(targets);
  emit({ type: 'hunt-enqueued', queued, skipped });
  const first = await store.counts();
  let counts = first;
  while (!options.signal?.aborted) {
    counts = await store.counts();
    const elapsedMs = Date.now() - started;
    const finished = counts.done + counts.failed - first.done - first.failed;
    const ratePerMin = elapsedMs > 0 ? (finished * 60_000) / elapsedMs : 0;
    emit({ type: 'hunt-progress', counts, elapsedMs, ratePerMin });
    if (counts.queued === 0 && counts.running === 0) break;
    await sleep(options.pollMs ?? 1000, options.signal);
  }
  const interrupted = options.signal?.aborted === true;
  emit({ type: 'hunt-end', counts, interrupted });
  return counts;
}
