/**
 * `make bench`: bytes stored per package, from the stores of bench/hunt-throughput.ts's hunts
 * (its raw file) and from the records in out/dataset/records (real malware samples analysed by
 * `make dataset`: only read as JSON, never run). Prints the "## Storage per package" section.
 * CLI: node --import tsx bench/hunt-storage.ts --raw .cache/bench-results/hunt-throughput.json [--records DIR]
 * Or, from the SQLite stores of hunts run for this purpose (one per way of keeping traces):
 *   node --import tsx bench/hunt-storage.ts --store LABEL=path/to/hunt.db [--store ...]
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { z } from 'zod';
import { PROJECT_ROOT } from '../src/config.ts';
import { machineLine, utcNow, writeFileMaking } from './hunt-common.ts';
import { type StoredRow, ThroughputRaw } from './hunt-raw.ts';
import { summarize } from './stats.ts';

const TARGET_BYTES = 20 * 1024;
/** The study: about 1 TB for 245,000 packages. */
export const STUDY_BYTES_PER_PACKAGE = 1e12 / 245_000;

export interface PackageBytes {
  project: string;
  record: number;
  trace: number;
  rawTrace: number;
  total: number;
}

/** One line per package: the median over every traced hunt run of that package. */
export function bytesPerPackage(raw: ThroughputRaw): PackageBytes[] {
  const rows = raw.samples
    .filter((s) => s.variant !== 'bare' && s.variant !== 'hunt-none')
    .flatMap((s) => s.stored);
  const by = new Map<string, StoredRow[]>();
  for (const r of rows) by.set(r.project, [...(by.get(r.project) ?? []), r]);
  const med = (xs: number[]): number => summarize(xs)?.median ?? 0;
  return [...by.entries()].map(([project, rs]) => ({
    project,
    record: med(rs.map((r) => r.recordBytes)),
    trace: med(rs.map((r) => r.traceBytes)),
    rawTrace: med(rs.map((r) => r.rawTraceBytes)),
    total: med(rs.map((r) => r.recordBytes + r.traceBytes)),
  }));
}

/** Compact JSON bytes of each record file, as the store would keep it (JSON.stringify). */
export async function datasetRecordBytes(dir: string): Promise<number[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.json'));
  const sizes: number[] = [];
  for (const f of files) {
    try {
      sizes.push(Buffer.byteLength(JSON.stringify(JSON.parse(await readFile(join(dir, f), 'utf8')))));
    } catch {
      // A truncated or empty file (an aborted run) is no record.
    }
  }
  return sizes;
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function stat(values: number[]): string {
  const s = summarize(values);
  return s === null ? 'n/a | n/a' : `${kb(s.median)} | ${kb(s.max)}`;
}

export function renderStorage(input: {
  raw: ThroughputRaw;
  date: string;
  command: string;
  dataset: number[];
  recordsDir: string;
}): string {
  const pkgs = bytesPerPackage(input.raw);
  const storeRuns = input.raw.samples.filter(
    (s) => s.variant !== 'bare' && s.variant !== 'hunt-none' && s.storeDiskBytes !== null && s.done > 0,
  );
  const onDisk = storeRuns.map((s) => (s.storeDiskBytes ?? 0) / s.done);
  const total = summarize(pkgs.map((p) => p.total));
  const q11 = input.raw.recompressed.map((r) => r.recordBytes + r.q11Bytes);
  const q11Total = summarize(q11);
  const shrink = summarize(pkgs.filter((p) => p.trace > 0).map((p) => p.rawTrace / p.trace));
  const lines = [
    '## Storage per package',
    '',
    `Computed on ${input.date} with \`${input.command}\`, from the stores of the traced hunts of "Hunt throughput" ` +
      `(${input.raw.date}) and from the records of "Real malware samples through analyze" (\`${input.recordsDir}\`).`,
    '',
    "Per package: the record as the store keeps it (`results.record`, compact JSON) plus its raw traces as stored (brotli files under `traces/`, listed in `results.traces`); each package's value is the median over the runs that traced it. KB = 1024 bytes.",
    '',
    '| package | record, KB | compressed trace, KB | record + trace, KB | trace uncompressed, KB |',
    '| ------- | ---------: | -------------------: | -----------------: | ---------------------: |',
    ...pkgs.map(
      (p) => `| ${p.project} | ${kb(p.record)} | ${kb(p.trace)} | ${kb(p.total)} | ${kb(p.rawTrace)} |`,
    ),
    '',
    '| what | packages | median, KB | max, KB |',
    '| ---- | -------: | ---------: | ------: |',
    `| bench packages: record + compressed trace | ${pkgs.length} | ${stat(pkgs.map((p) => p.total))} |`,
    `| bench packages: record only | ${pkgs.length} | ${stat(pkgs.map((p) => p.record))} |`,
    `| bench packages: whole store on disk (SQLite file + WAL + traces, with projects, releases and jobs rows) / packages | ${storeRuns.length} runs | ${stat(onDisk)} |`,
    `| bench packages: record + trace recompressed at brotli quality 11, window 16 MB (one run, off the clock) | ${q11.length} | ${stat(q11)} |`,
    `| real malware samples: record only (traces were not kept) | ${input.dataset.length} | ${stat(input.dataset)} |`,
    '',
    '### Target',
    '',
    `- median record + compressed trace at most 20 KB: ${total === null ? 'n/a' : `${kb(total.median)} KB`}, ` +
      `**${total !== null && total.median <= TARGET_BYTES ? 'met' : 'missed'}** ` +
      `(the study kept about ${(STUDY_BYTES_PER_PACKAGE / 1e6).toFixed(1)} MB per package: 1 TB for 245,000).`,
    '',
    '### Notes',
    '',
    `- The store compresses the kept trace text ${shrink === null ? '?' : `${shrink.min.toFixed(0)}–${shrink.max.toFixed(0)}x`} (src/adapters/store/trace-blobs.ts: \`--keep-traces reduced\`, the default, at brotli quality 10; \`full\` at quality 9). ` +
      `Quality 11 would bring the median to ${q11Total === null ? 'n/a' : `${kb(q11Total.median)} KB`}` +
      `${q11Total === null ? '' : q11Total.median <= TARGET_BYTES ? ' (within the target)' : ' (still over the target)'}; ` +
      'further cuts would need a shared dictionary (every trace starts with the same Python start-up) or dropping trace lines the record already summarises.',
    `- A package that runs more (an sdist build, a C compiler) has a longer trace: the largest here are ${[
      ...pkgs,
    ]
      .sort((a, b) => b.total - a.total)
      .slice(0, 3)
      .map((p) => p.project)
      .join(', ')}.`,
    "- The whole store on disk per package also holds SQLite's pages (projects, releases, jobs, indexes, free space) and an un-checkpointed WAL; it shrinks per package as a store grows.",
    '- The malware records hold no trace because `make dataset` did not keep them; their record sizes show the record part for packages that do more than benign ones (commands, connections, canaries).',
    '',
  ];
  return lines.join('\n');
}

const StoreTrace = z.object({
  bytes: z.number(),
  storedBytes: z.number(),
  content: z.string().optional(),
  fullBytes: z.number().optional(),
});

export interface StoreBytes {
  label: string;
  packages: { project: string; record: number; trace: number; traceText: number; fullTrace: number }[];
}

/** Record (compact JSON as stored) and traces (as stored, and before reduction) of each result. */
export function readStoreBytes(label: string, path: string): StoreBytes {
  const db = new Database(path, { readonly: true });
  try {
    const rows = z
      .array(z.object({ project: z.string(), recordBytes: z.number(), traces: z.string() }))
      .parse(
        db
          .prepare(
            'SELECT project, length(CAST(record AS BLOB)) AS recordBytes, traces FROM results ORDER BY project',
          )
          .all(),
      );
    return {
      label,
      packages: rows.map((r) => {
        const traces = z.array(StoreTrace).parse(JSON.parse(r.traces));
        return {
          project: r.project,
          record: r.recordBytes,
          trace: traces.reduce((a, t) => a + t.storedBytes, 0),
          traceText: traces.reduce((a, t) => a + t.bytes, 0),
          fullTrace: traces.reduce((a, t) => a + (t.fullBytes ?? t.bytes), 0),
        };
      }),
    };
  } finally {
    db.close();
  }
}

export function renderStoreStorage(input: { stores: StoreBytes[]; date: string; command: string }): string {
  const med = (xs: number[]): number => summarize(xs)?.median ?? 0;
  const lines = [
    '## Storage per package',
    '',
    `Computed on ${input.date} on ${machineLine()} with \`${input.command}\`, from the SQLite stores of hunts of the bench packages (bench/bench-packages.ts, bench index), one store per way of keeping traces (\`hunt --keep-traces\`).`,
    '',
    'Per package: the record as the store keeps it (`results.record`, compact JSON) plus its traces as stored (brotli files under `traces/`, listed in `results.traces`). KB = 1024 bytes.',
    '',
    '| store | package | record, KB | stored trace, KB | record + trace, KB | kept trace text, KB | tracer output, KB |',
    '| ----- | ------- | ---------: | ---------------: | -----------------: | ------------------: | ----------------: |',
    ...input.stores.flatMap((s) =>
      s.packages.map(
        (p) =>
          `| ${s.label} | ${p.project} | ${kb(p.record)} | ${kb(p.trace)} | ${kb(p.record + p.trace)} | ${kb(p.traceText)} | ${kb(p.fullTrace)} |`,
      ),
    ),
    '',
    '| store | packages | median record + trace, KB | max, KB | median record, KB | target (≤ 20 KB) |',
    '| ----- | -------: | ------------------------: | ------: | ----------------: | ---------------- |',
    ...input.stores.map((s) => {
      const totals = s.packages.map((p) => p.record + p.trace);
      const m = med(totals);
      return `| ${s.label} | ${s.packages.length} | ${kb(m)} | ${kb(Math.max(0, ...totals))} | ${kb(med(s.packages.map((p) => p.record)))} | ${m <= TARGET_BYTES ? 'met' : `missed by ${kb(m - TARGET_BYTES)} KB`} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--store')) {
    const stores = new Command('hunt-storage')
      .option('--store <label=path>', 'a hunt store (repeat)', (v: string, all: string[]) => [...all, v], [])
      .option('--command <text>', 'the command line shown in the report')
      .parse()
      .opts<{ store: string[]; command?: string }>();
    process.stdout.write(
      renderStoreStorage({
        stores: stores.store.map((s) => {
          const at = s.indexOf('=');
          return readStoreBytes(s.slice(0, at), s.slice(at + 1));
        }),
        date: utcNow(),
        command: stores.command ?? `node --import tsx bench/hunt-storage.ts ${argv.join(' ')}`,
      }),
    );
    return;
  }
  const opts = new Command('hunt-storage')
    .requiredOption('--raw <file>', 'raw results of bench/hunt-throughput.ts')
    .option('--records <dir>', 'records of `make dataset`', join(PROJECT_ROOT, 'out', 'dataset', 'records'))
    .option('--command <text>', 'the command line shown in the report')
    .option('--save-raw <file>', 'also write the numbers (JSON) to FILE')
    .parse()
    .opts<{ raw: string; records: string; command?: string; saveRaw?: string }>();
  const raw = ThroughputRaw.parse(JSON.parse(await readFile(opts.raw, 'utf8')));
  const dataset = await datasetRecordBytes(opts.records);
  if (opts.saveRaw !== undefined) {
    await writeFileMaking(
      opts.saveRaw,
      `${JSON.stringify({ packages: bytesPerPackage(raw), dataset }, null, 2)}\n`,
    );
  }
  process.stdout.write(
    renderStorage({
      raw,
      date: utcNow(),
      command:
        opts.command ?? `node --import tsx bench/hunt-storage.ts ${process.argv.slice(2).join(' ')}`.trim(),
      dataset,
      recordsDir: 'out/dataset/records',
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
