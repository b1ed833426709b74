/**
 * `make bench`: what hunting the latest release of every project of the index would cost, from the
 * CPU time and bytes per package measured by bench/hunt-throughput.ts, and the project count of the
 * index pip is configured with (one `bin/pkghunt index sync` into a throw-away store: one request
 * to the root listing), or ~700,000 when that is not reachable. Prints the
 * "## Estimate: the whole index" section.
 * CLI: node --import tsx bench/hunt-estimate.ts --raw FILE [--projects N | --offline]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { PROJECT_ROOT } from '../src/config.ts';
import { log, utcNow } from './hunt-common.ts';
import { ThroughputRaw } from './hunt-raw.ts';
import { bytesPerPackage, STUDY_BYTES_PER_PACKAGE } from './hunt-storage.ts';
import { cpuPerPackage, medianThroughput } from './hunt-throughput-report.ts';
import { summarize } from './stats.ts';

const FALLBACK_PROJECTS = 700_000;
const SyncOut = z.object({ projects: z.number().int().positive(), format: z.string() });

/** Project count of the configured index via the product's own `index sync`; null when unreachable. */
async function liveProjectCount(timeoutMs: number): Promise<{ count: number; format: string } | null> {
  const dir = await mkdtemp('/tmp/pkghunt-bench-count-');
  try {
    const child = spawn(
      join(PROJECT_ROOT, 'bin', 'pkghunt'),
      ['index', 'sync', '--db', join(dir, 'count.db'), '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.stderr.resume();
    const code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', (c) => resolve(c));
    });
    if (code !== 0) return null;
    const parsed = SyncOut.safeParse(JSON.parse(out.trim().split('\n').at(-1) || 'null'));
    return parsed.success ? { count: parsed.data.projects, format: parsed.data.format } : null;
  } catch {
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Analysis wall time of each record of `make dataset` (finished_at - started_at), seconds. */
async function datasetWallSeconds(dir: string): Promise<number[]> {
  const Rec = z.object({ started_at: z.string(), finished_at: z.string() }).loose();
  const out: number[] = [];
  for (const f of (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.json'))) {
    try {
      const r = Rec.parse(JSON.parse(await readFile(join(dir, f), 'utf8')));
      out.push((Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000);
    } catch {
      // Not a record (an aborted run): skipped.
    }
  }
  return out;
}

function n0(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function gb(bytes: number): string {
  return bytes >= 1e12 ? `${(bytes / 1e12).toFixed(2)} TB` : `${(bytes / 1e9).toFixed(1)} GB`;
}

async function main(): Promise<void> {
  const opts = new Command('hunt-estimate')
    .requiredOption('--raw <file>', 'raw results of bench/hunt-throughput.ts')
    .option('--projects <n>', 'project count to use instead of asking the index')
    .option(
      '--offline',
      `do not ask the index; assume ~${FALLBACK_PROJECTS.toLocaleString('en-US')} projects`,
    )
    .option('--records <dir>', 'records of `make dataset`', join(PROJECT_ROOT, 'out', 'dataset', 'records'))
    .option('--command <text>', 'the command line shown in the report')
    .parse()
    .opts<{ raw: string; projects?: string; offline?: boolean; records: string; command?: string }>();
  const raw = ThroughputRaw.parse(JSON.parse(await readFile(opts.raw, 'utf8')));
  let projects = FALLBACK_PROJECTS;
  let source = `assumed (~${n0(FALLBACK_PROJECTS)}: "over 700,000" in issue 3)`;
  if (opts.projects !== undefined) {
    projects = Number.parseInt(opts.projects, 10);
    source = 'given with --projects';
  } else if (!opts.offline) {
    log('counting the projects of the configured index (one request to its root listing)');
    const live = await liveProjectCount(180_000);
    if (live !== null) {
      projects = live.count;
      source = `counted on ${utcNow()} by \`bin/pkghunt index sync\` of the index pip is configured with (one request to its root listing, ${live.format} form) into a throw-away store`;
    } else source = `the index was not reachable, so assumed (~${n0(FALLBACK_PROJECTS)})`;
  }

  // The tracer hunt uses by default (strace), where it was measured.
  const traced = raw.variants.find((v) => v === 'hunt-strace') ?? 'hunt-bpftrace';
  const cpuRuns = raw.samples.filter((s) => s.variant === traced).map(cpuPerPackage);
  const cpu = summarize(cpuRuns.filter((c): c is number => c !== null));
  const bareCpu = summarize(
    raw.samples
      .filter((s) => s.variant === 'bare')
      .map(cpuPerPackage)
      .filter((c): c is number => c !== null),
  );
  const bytes = bytesPerPackage(raw).map((p) => p.total);
  const b = summarize(bytes);
  const mean = bytes.length === 0 ? 0 : bytes.reduce((x, y) => x + y, 0) / bytes.length;
  const rate2 = medianThroughput(raw, traced, 2) ?? 0;
  const c = cpu?.median ?? 0;
  const cpuHours = (projects * c) / 3600;
  const cores = Number(/^(\d+) CPUs/.exec(raw.machine)?.[1] ?? '2');
  const machineDays = rate2 > 0 ? projects / rate2 / 60 / 24 : Number.NaN;
  const dataset = summarize(await datasetWallSeconds(opts.records));
  const benchWall = summarize(
    raw.samples
      .filter((s) => s.variant === traced && s.workers === 1 && s.done > 0)
      .map((s) => s.wallS / s.done),
  );
  const scale =
    dataset !== null && benchWall !== null && benchWall.median > 0 ? dataset.median / benchWall.median : null;

  const lines = [
    '## Estimate: the whole index',
    '',
    `Computed on ${utcNow()} with \`${opts.command ?? `node --import tsx bench/hunt-estimate.ts ${process.argv.slice(2).join(' ')}`.trim()}\`, ` +
      `from "Hunt throughput" and "Storage per package" (${raw.date}).`,
    '',
    `- **N**, projects in the index (one latest release each): ${n0(projects)}, ${source}.`,
    `- **c**, CPU per package: ${c.toFixed(2)} CPU-seconds, the median over the ${cpuRuns.length} \`hunt --tracer ${traced.slice('hunt-'.length)}\` runs of user+sys CPU ` +
      `of the whole process tree / packages done (range ${cpu?.min.toFixed(2) ?? '?'}–${cpu?.max.toFixed(2) ?? '?'}; bare pip install alone: ${bareCpu?.median.toFixed(2) ?? '?'}).`,
    `- **s**, bytes per package (record + compressed trace): median ${(b?.median ?? 0).toFixed(0)} B, mean ${mean.toFixed(0)} B, max ${(b?.max ?? 0).toFixed(0)} B over the ${bytes.length} bench packages.`,
    `- **r**, throughput of one ${cores}-CPU machine like this one with 2 workers: ${rate2.toFixed(1)} packages/min.`,
    '',
    '| quantity | arithmetic | result |',
    '| -------- | ---------- | -----: |',
    `| CPU | N × c / 3600 = ${n0(projects)} × ${c.toFixed(2)} / 3600 | **${n0(cpuHours)} CPU-hours** |`,
    `| storage, at the median | N × s_median = ${n0(projects)} × ${n0(b?.median ?? 0)} B | **${gb(projects * (b?.median ?? 0))}** |`,
    `| storage, at the mean | N × s_mean = ${n0(projects)} × ${n0(mean)} B | ${gb(projects * mean)} |`,
    `| storage, every package as large as the largest | N × s_max = ${n0(projects)} × ${n0(b?.max ?? 0)} B | ${gb(projects * (b?.max ?? 0))} |`,
    `| the study's rate, for comparison | N × ${(STUDY_BYTES_PER_PACKAGE / 1e6).toFixed(2)} MB (1 TB / 245,000) | ${gb(projects * STUDY_BYTES_PER_PACKAGE)} |`,
    `| wall time on one such machine | N / r / 60 / 24 = ${n0(projects)} / ${rate2.toFixed(1)} / 1440 | ${machineDays.toFixed(1)} days |`,
    `| machines to finish in a week | ${machineDays.toFixed(1)} / 7 | ${Math.ceil(machineDays / 7)} |`,
    `| wall time if CPU were the only limit | N × c / ${cores} CPUs / 86400 = ${n0(projects)} × ${c.toFixed(2)} / ${cores} / 86400 | ${((projects * c) / cores / 86400).toFixed(1)} days |`,
    '',
    '### How far to trust it',
    '',
    `- c and s come from ${raw.packages.length} small, benign packages (a bare install takes 0.5–3 s). A typical release of the index is larger, and some are far larger (native builds that run for minutes, hitting the 300 s timeout): the CPU figure is a lower bound, and the long tail of builds decides the real total.`,
  ];
  if (dataset !== null && benchWall !== null && scale !== null) {
    lines.push(
      `- A cross-check with real packages: the ${dataset.n} malware samples of \`make dataset\` took a median ${dataset.median.toFixed(1)} s ` +
        `of analysis wall time each (max ${dataset.max.toFixed(0)} s; their dependencies came from the live index), against ${benchWall.median.toFixed(1)} s per bench package with 1 worker. ` +
        `If CPU scales with wall time, c is ${scale.toFixed(1)}x larger for such packages: ${n0(cpuHours * scale)} CPU-hours.`,
    );
  }
  lines.push(
    '- Storage grows with what a package does (long traces of builds, many files); the trace is most of the bytes, and the record alone stays small (see "Storage per package").',
    '- Not counted: the index listing (seconds, see "index sync of 750,000 names"), downloading the artifacts (network, not CPU), and retries of failing packages.',
    '',
  );
  process.stdout.write(lines.join('\n'));
}

await main();
