import { hostname } from 'node:os';
import type { Job, KeepTraces, Store, TraceBlob } from '../adapters/store/store.ts';
import { storeTraceBlob } from '../adapters/store/trace-blobs.ts';
import type { TracerChoice } from '../adapters/tracer/tracer.ts';
import type { Config } from '../config.ts';
import { recordFacts } from '../core/behaviour/record-facts.ts';
import { analysisSpec } from '../core/ecosystem.ts';
import { FATAL_WORKER_ERRORS, PERMANENT_JOB_ERRORS, PkghuntError, toPkghuntError } from '../core/errors.ts';
import type { BehaviourRecord, PhaseName } from '../core/record/schema.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import { type AnalyzeOptions, analyze as realAnalyze } from './analyze.ts';
import { NOISE_AREAS, SENSITIVE_PATHS } from './assemble-phase.ts';
import { enrichRecord } from './enrich-record.ts';
import { createPopulationCache } from './population-from-store.ts';

export interface JobPoolOptions {
  config: Config;
  indexUrl: string;
  /** npm jobs: the registry URL or directory (default: npm's configured registry). */
  registry?: string;
  workers: number;
  timeoutS?: number;
  phases?: PhaseName[];
  /** How long a claimed job stays ours without a heartbeat; a dead process's jobs return after it. */
  leaseMs: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs: number;
  traceDir: string;
  keepTraces: KeepTraces;
  tracer?: TracerChoice;
  reporter?: Reporter;
  /** Aborting destroys the running sandboxes and hands their jobs back. */
  signal: AbortSignal;
  /** Aborting stops taking jobs; the running ones finish (watch's SIGTERM). */
  drain?: AbortSignal;
  /** Polled when the queue is empty: true ends the pool (hunt: nothing more is being scheduled). */
  doneWhenIdle: () => boolean;
  /** This machine cannot analyse (no capability, not root): the pool stops taking jobs. */
  onFatal: (error: PkghuntError) => void;
  /** For tests: replaces app/analyze's `analyze`. */
  analyze?: (requested: string, options: AnalyzeOptions) => Promise<BehaviourRecord>;
}

/**
 * The analyze options that store each phase's trace in `traceDir` (pushed to `traces`) as `keep`
 * says; a reduced trace is reduced by analyze while it parses it (reduceTraces), with the record's
 * noise areas, so the file is read once.
 */
export function traceStoring(
  traceDir: string,
  keep: 'full' | 'reduced' | 'none',
  traces: TraceBlob[],
): Pick<AnalyzeOptions, 'reduceTraces' | 'onTraceFile'> {
  if (keep === 'none') return {};
  return {
    reduceTraces: keep === 'reduced',
    onTraceFile: async (phase: PhaseName, path: string, reduced: readonly string[] | null) => {
      traces.push(
        await storeTraceBlob(traceDir, path, {
          phase,
          content: keep,
          reduce: { noiseAreas: NOISE_AREAS, sensitivePaths: SENSITIVE_PATHS },
          reducedLines: reduced,
        }),
      );
    },
  };
}

function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    }
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

/**
 * The SQLite queue's workers, shared by `hunt` and `watch`: `workers` loops claim a job (lease,
 * renewed by a heartbeat), analyse it in its own sandbox, enrich the record and store it with the
 * job's completion in one transaction; failures are retried with back-off or end failed.
 */
export async function runJobPool(store: Store, options: JobPoolOptions): Promise<void> {
  const reporter = options.reporter ?? silentReporter;
  const analyze = options.analyze ?? realAnalyze;
  const population = createPopulationCache(store);
  const { leaseMs, retryBaseMs, keepTraces, signal } = options;
  const waits = options.drain ? [signal, options.drain] : [signal];
  const stopped = (): boolean => signal.aborted || options.drain?.aborted === true;

  async function runJob(job: Job, worker: string): Promise<void> {
    const requested = analysisSpec(job.ecosystem, job.project, job.version);
    const t0 = Date.now();
    reporter.report({
      type: 'job-start',
      project: job.project,
      version: job.version,
      attempt: job.attempts,
      worker,
    });
    const end = (
      outcome: 'done' | 'retry' | 'failed' | 'lost' | 'interrupted',
      code: string | null,
      reason: string | null,
    ): void =>
      reporter.report({
        type: 'job-end',
        project: job.project,
        version: job.version,
        attempt: job.attempts,
        outcome,
        durationMs: Date.now() - t0,
        code,
        reason,
      });
    const beat = setInterval(
      () => {
        store.heartbeat(job.id, worker, { leaseMs }).catch(() => undefined);
      },
      Math.max(1000, leaseMs / 3),
    );
    const traces: TraceBlob[] = [];
    try {
      const record = await analyze(requested, {
        config: options.config,
        // The next job's network namespace is made while this one runs.
        prepareNext: true,
        indexUrl: options.indexUrl,
        ...(options.registry !== undefined ? { registry: options.registry } : {}),
        signal,
        ...(options.timeoutS !== undefined ? { timeoutS: options.timeoutS } : {}),
        ...(options.phases !== undefined ? { phases: options.phases } : {}),
        ...(options.tracer !== undefined ? { tracer: options.tracer } : {}),
        ...traceStoring(options.traceDir, keepTraces, traces),
      });
      const broken = Object.values(record.phases).find((p) => p?.status === 'sandbox_error');
      if (broken && job.attempts < job.maxAttempts) {
        throw new PkghuntError('SANDBOX_SETUP_FAILED', broken.reason ?? 'the sandbox failed');
      }
      const enriched = await enrichRecord(record, {
        store,
        population: await population(record.package.ecosystem),
      });
      const stored = await store.complete(job.id, worker, {
        record: enriched,
        facts: recordFacts(enriched),
        traces,
      });
      end(stored ? 'done' : 'lost', null, null);
    } catch (error) {
      const e = toPkghuntError(error);
      if (signal.aborted) {
        await store.release(job.id, worker);
        end('interrupted', e.code, e.message);
        return;
      }
      if (FATAL_WORKER_ERRORS.has(e.code)) {
        await store.release(job.id, worker);
        end('interrupted', e.code, e.message);
        options.onFatal(e);
        return;
      }
      const final = PERMANENT_JOB_ERRORS.has(e.code);
      const state = await store.fail(job.id, worker, {
        reason: `${e.code}: ${e.message}`,
        retryAfterMs: Math.min(retryBaseMs * 2 ** (job.attempts - 1), 60 * 60_000),
        ...(final ? { final: true } : {}),
      });
      end(state === 'failed' ? 'failed' : state === null ? 'lost' : 'retry', e.code, e.message);
    } finally {
      clearInterval(beat);
    }
  }

  async function workerLoop(index: number): Promise<void> {
    const worker = `${hostname()}-${process.pid}-${index}`;
    // Polls an empty queue quickly at first (hunt's first jobs are being scheduled), then every 500 ms.
    let idleMs = 25;
    while (!stopped()) {
      const job = await store.claim(worker, { leaseMs });
      if (job !== null) {
        idleMs = 25;
        await runJob(job, worker);
        reporter.report({ type: 'hunt-progress', counts: await store.jobCounts() });
        continue;
      }
      const counts = await store.jobCounts();
      // Running jobs may be another (dead) process's: wait for their lease to run out and take them.
      if (options.doneWhenIdle() && counts.pending === 0 && counts.running === 0) return;
      await sleep(idleMs, waits);
      idleMs = Math.min(500, idleMs * 2);
    }
  }

  await Promise.all(Array.from({ length: options.workers }, (_, i) => workerLoop(i)));
}
