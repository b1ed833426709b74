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
});
export type ThroughputRaw = z.infer<typeof ThroughputRaw>;
