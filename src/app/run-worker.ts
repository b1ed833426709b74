import type { PostgresStore, QueueJob } from '../adapters/store/postgres-store.ts';
import type { TraceBlob } from '../adapters/store/store.ts';
import { recordFacts } from '../core/behaviour/record-facts.ts';
import { analysisSpec } from '../core/ecosystem.ts';
import { FATAL_WORKER_ERRORS, PERMANENT_JOB_ERRORS, toPkghuntError } from '../core/errors.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import { enrichRecord } from './enrich-record.ts';
import { createPopulationCache } from './population-from-store.ts';

/** What a worker tells the outside world, one event per job step. */
export type WorkerEvent =
  | { type: 'worker-ready'; concurrency: number }
  | { type: 'job-start'; key: string; attempt: number }
  | { type: 'job-done'; key: string; stored: boolean; durationMs: number }
  | { type: 'job-failed'; key: string; attempt: number; final: boolean; code: string; reason: string }
  | { type: 'worker-fatal'; code: string; message: string }
  | { type: 'worker-stopping' }
  | { type: 'worker-stopped' };

export interface RunWorkerOptions {
  concurrency: number;
  /**
   * Analyses one package (NAME or NAME==VERSION): app/analyze's `analyze` with the worker's
   * options, and the traces it kept (`--keep-traces`).
   */
  analyze: (requested: string) => Promise<{ record: BehaviourRecord; traces: TraceBlob[] }>;
  /** Aborting stops taking jobs; running ones finish (up to `drainMs`) or go back to the queue. */
  signal: AbortSignal;
  drainMs: number;
  onEvent?: (event: WorkerEvent) => void;
}

class RetryLater extends Error {}

function requestedOf(job: QueueJob): string {
  return analysisSpec(job.target.ecosystem ?? 'pypi', job.target.name, job.target.version);
}

/**
 * Takes jobs from the PostgreSQL queue and analyses them, `concurrency` at a time, until the
 * signal aborts. A result is stored and its job completed in one transaction; a failed attempt
 * is recorded and handed back to the queue, which retries it with back-off a bounded number of
 * times; the last failure (or one retrying cannot fix) ends the job as failed with its reason.
 */
export async function runWorker(store: PostgresStore, options: RunWorkerOptions): Promise<void> {
  const emit = options.onEvent ?? (() => {});
  const population = createPopulationCache(store);
  const stopping = new AbortController();
  const onAbort = (): void => stopping.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });

  async function handle(job: QueueJob): Promise<void> {
    const started = Date.now();
    emit({ type: 'job-start', key: job.key, attempt: job.attempt });
    if (await store.hasResult(job.key)) {
      await store.complete(job, null);
      emit({ type: 'job-done', key: job.key, stored: false, durationMs: Date.now() - started });
      return;
    }
    let record: BehaviourRecord;
    let traces: TraceBlob[];
    try {
      ({ record, traces } = await options.analyze(requestedOf(job)));
    } catch (error) {
      const e = toPkghuntError(error);
      const fatal = FATAL_WORKER_ERRORS.has(e.code);
      const final = !fatal && (PERMANENT_JOB_ERRORS.has(e.code) || job.lastAttempt);
      await store.recordFailure(job, { code: e.code, reason: e.message }, { final });
      emit({
        type: 'job-failed',
        key: job.key,
        attempt: job.attempt,
        final,
        code: e.code,
        reason: e.message,
      });
      if (fatal) {
        emit({ type: 'worker-fatal', code: e.code, message: e.message });
        stopping.abort();
      }
      if (final) return;
      throw new RetryLater(`${e.code}: ${e.message}`);
    }
    const broken = Object.values(record.phases).find((p) => p?.status === 'sandbox_error');
    if (broken && !job.lastAttempt) {
      const reason = broken.reason ?? 'the sandbox failed';
      await store.recordFailure(job, { code: 'SANDBOX_SETUP_FAILED', reason }, { final: false });
      emit({
        type: 'job-failed',
        key: job.key,
        attempt: job.attempt,
        final: false,
        code: 'SANDBOX_SETUP_FAILED',
        reason,
      });
      throw new RetryLater(reason);
    }
    record = await enrichRecord(record, { store, population: await population(record.package.ecosystem) });
    const { stored } = await store.complete(job, { record, facts: recordFacts(record), traces });
    emit({ type: 'job-done', key: job.key, stored, durationMs: Date.now() - started });
  }

  try {
    if (!stopping.signal.aborted) {
      await store.work(options.concurrency, handle);
      emit({ type: 'worker-ready', concurrency: options.concurrency });
      await new Promise<void>((resolve) => {
        if (stopping.signal.aborted) resolve();
        else stopping.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    emit({ type: 'worker-stopping' });
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    await store.stop({ drainMs: options.drainMs });
    emit({ type: 'worker-stopped' });
  }
}
