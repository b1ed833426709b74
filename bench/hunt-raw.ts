/** The raw results of bench/hunt-throughput.ts, read back by the storage and estimate sections. */
import { z } from 'zod';

export const StoredRow = z.object({
  project: z.string(),
  version: z.string().nullable(),
  /** The record as the store keeps it (results.record, UTF-8 bytes). */
  recordBytes: z.number(),
  /** The compressed raw traces of its phases (brotli files on disk). */
  traceBytes: z.number(),
  /** The same traces uncompressed. */
  rawTraceBytes: z.number(),
  traceSha256: z.array(z.string()).default([]),
});
export type StoredRow = z.infer<typeof StoredRow>;

export const RunSample = z.object({
  variant: z.string(),
  workers: z.number(),
  round: z.number(),
  packages: z.number(),
  done: z.number(),
  failed: z.array(z.string()),
  wallS: z.number(),
  /** Hunt only: from the first job-start event to the last job-end (no start-up, sync, scheduling). */
  jobsS: z.number().nullable(),
  cpuS: z.number().nullable(),
  load: z.string(),
  /** Hunt only: every stored result, and the whole store on disk (db + wal + traces). */
  stored: z.array(StoredRow),
  storeDiskBytes: z.number().nullable(),
  note: z.string().nullable(),
});
export type RunSample = z.infer<typeof RunSample>;

/** One stage of one package's hunt job, from bench/hunt-profile.ts (see `stage` events of analyze). */
export const StageSample = z.object({ project: z.string(), stage: z.string(), ms: z.number() });
export type StageSample = z.infer<typeof StageSample>;

/** A hunt run through bench/hunt-profile.ts: where each job's time went. */
export const ProfileRun = z.object({
  tracer: z.string(),
  workers: z.number(),
  stages: z.array(StageSample),
  /** Each job's whole time (job-start to job-end), by project. */
  jobs: z.array(z.object({ project: z.string(), ms: z.number() })),
  wallMs: z.number(),
  startToFirstJobMs: z.number().nullable(),
  /** CPU of hunt's own node process (parsing, compression, store), all its threads. */
  nodeCpuMs: z.number().nullable(),
  load: z.string(),
});
export type ProfileRun = z.infer<typeof ProfileRun>;

export const ThroughputRaw = z.object({
  command: z.string(),
  date: z.string(),
  machine: z.string(),
  rounds: z.number(),
  packages: z.array(z.object({ name: z.string(), file: z.string(), why: z.string() })),
  variants: z.array(z.string()),
  tracersMissing: z.array(z.string()),
  samples: z.array(RunSample),
  loadBefore: z.string(),
  loadAfter: z.string(),
  /** The traces of one traced hunt, recompressed at brotli's highest quality: what storage could be. */
  recompressed: z
    .array(
      z.object({
        project: z.string(),
        recordBytes: z.number(),
        traceBytes: z.number(),
        q11Bytes: z.number(),
      }),
    )
    .default([]),
  /** Per-stage breakdowns of hunt jobs (bench/hunt-profile.ts), after the timed rounds. */
  profiles: z.array(ProfileRun).default([]),
});
export type ThroughputRaw = z.infer<typeof ThroughputRaw>;
