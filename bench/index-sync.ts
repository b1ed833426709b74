/**
 * `make bench`: `bin/pkghunt index sync` of a synthetic index of 750,000 names served on loopback,
 * in the JSON (PEP 691) and the HTML (PEP 503) form: time and peak memory of the syncing process
 * (VmHWM, by /usr/bin/time -v). Prints the "## index sync of 750,000 names" section on stdout.
 * CLI: node --import tsx bench/index-sync.ts [--rounds 3] [--names 750000] [--command TEXT] [--save-raw FILE]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { PROJECT_ROOT } from '../src/config.ts';
import { loadAverage, log, machineLine, runAccounted, utcNow, writeFileMaking } from './hunt-common.ts';
import { type IndexForm, rootPageBytes, serveSyntheticIndex } from './index-sync-server.ts';
import { interleave, summarize } from './stats.ts';

const SyncSummary = z.object({ projects: z.number(), added: z.number(), format: z.string() });

const TARGET_S = 20;
const TARGET_MB = 300;

interface SyncSample {
  form: IndexForm;
  round: number;
  ok: boolean;
  wallS: number;
  /** The sync itself as the command reports it (without node start-up). */
  syncS: number | null;
  peakMb: number | null;
  cpuS: number | null;
  projects: number | null;
  note: string | null;
}

async function syncOnce(form: IndexForm, names: number, round: number): Promise<SyncSample> {
  const index = await serveSyntheticIndex(form, names);
  const dir = await mkdtemp('/tmp/pkghunt-bench-sync-');
  try {
    const run = await runAccounted(
      [
        '/usr/bin/time',
        '-v',
        join(PROJECT_ROOT, 'bin', 'pkghunt'),
        'index',
        'sync',
        '--index-url',
        index.url,
        '--db',
        join(dir, 'sync.db'),
        '--json',
      ],
      { tag: `sync-${form}` },
    );
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderrTail)?.[1];
    const parsed = SyncSummary.safeParse(JSON.parse(run.stdout.trim().split('\n').at(-1) || 'null'));
    const summary = parsed.success ? parsed.data : null;
    const durationMs = /"durationMs":(\d+)/.exec(run.stdout)?.[1];
    const ok = run.code === 0 && summary !== null && summary.added === names && summary.format === form;
    return {
      form,
      round,
      ok,
      wallS: run.wallMs / 1000,
      syncS: durationMs === undefined ? null : Number(durationMs) / 1000,
      peakMb: kb === undefined ? null : Number(kb) / 1024,
      cpuS: run.cpuMs === null ? null : run.cpuMs / 1000,
      projects: summary?.added ?? null,
      note: ok
        ? null
        : `exit ${run.code}, ${summary === null ? 'no summary' : `${summary.added} added as ${summary.format}`}: ${run.stderrTail.split('\n').find((l) => l.includes('pkghunt:')) ?? ''}`,
    };
  } finally {
    await index.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function fmt(values: readonly number[], digits: number): string {
  const s = summarize(values);
  if (s === null) return 'n/a';
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

function render(input: {
  command: string;
  date: string;
  names: number;
  rounds: number;
  samples: SyncSample[];
  loadBefore: string;
  loadAfter: string;
}): string {
  const lines = [
    '## index sync of 750,000 names',
    '',
    `Measured on ${input.date} with \`${input.command}\`.`,
    `Machine: ${machineLine()}. A shared, noisy VM: other engineers' tests ran at the same time.`,
    '',
    `A node:http server in the benchmark process serves ${input.names.toLocaleString('en-US')} generated names ` +
      '(mixed case, `-`/`_`/`.` separators, so normalisation does real work) at `http://127.0.0.1:PORT/simple/`, ' +
      `generating and streaming the body under back-pressure (${mb(rootPageBytes('html', input.names))} MB of HTML, ${mb(rootPageBytes('json', input.names))} MB of JSON, chunked). ` +
      'Each run is `/usr/bin/time -v bin/pkghunt index sync --index-url URL --db NEW.db --json` ' +
      '(a fresh SQLite file each time); peak memory is its maximum resident set size (VmHWM of the node process), ' +
      'CPU is user+sys of the command and its children (cpuacct cgroup). ' +
      `The two forms alternate, ${input.rounds} rounds each; a run counts only if the store ends with every name.`,
    '',
    'Median (min–max) of the successful rounds.',
    '',
    '| form | runs ok | command wall, s | sync (as reported), s | peak RSS, MB | CPU user+sys, s |',
    '| ---- | ------: | --------------: | --------------------: | -----------: | --------------: |',
  ];
  const verdicts: string[] = [];
  for (const form of ['json', 'html'] as const) {
    const all = input.samples.filter((s) => s.form === form);
    const ok = all.filter((s) => s.ok);
    lines.push(
      `| ${form === 'json' ? 'JSON (PEP 691)' : 'HTML (PEP 503)'} | ${ok.length}/${all.length} | ${fmt(
        ok.map((s) => s.wallS),
        1,
      )} | ${fmt(
        ok.flatMap((s) => (s.syncS === null ? [] : [s.syncS])),
        1,
      )} | ${fmt(
        ok.flatMap((s) => (s.peakMb === null ? [] : [s.peakMb])),
        0,
      )} | ${fmt(
        ok.flatMap((s) => (s.cpuS === null ? [] : [s.cpuS])),
        1,
      )} |`,
    );
    const wall = summarize(ok.map((s) => s.wallS));
    const worstWall = wall?.max ?? Number.POSITIVE_INFINITY;
    const peak = summarize(ok.flatMap((s) => (s.peakMb === null ? [] : [s.peakMb])));
    const worstPeak = peak?.max ?? Number.POSITIVE_INFINITY;
    verdicts.push(
      `- ${form}: under ${TARGET_S} s (slowest run, whole command): ${wall === null ? 'no successful run' : `${worstWall.toFixed(1)} s`}, ` +
        `**${worstWall < TARGET_S ? 'met' : 'missed'}**; under ${TARGET_MB} MB (largest peak): ${peak === null ? 'n/a' : `${worstPeak.toFixed(0)} MB`}, ` +
        `**${worstPeak < TARGET_MB ? 'met' : 'missed'}**.`,
    );
  }
  lines.push('', '### Targets', '', ...verdicts);
  const failed = input.samples.filter((s) => !s.ok);
  if (failed.length > 0) {
    lines.push('', '### Failed runs', '', ...failed.map((s) => `- ${s.form}, round ${s.round}: ${s.note}`));
  }
  lines.push(
    '',
    '### Notes',
    '',
    '- The command wall time includes the CLI start-up (node and the cached bundle of `bin/pkghunt`, about 0.4 s); the server shares the 2 CPUs with the sync.',
    `- Load average (1, 5, 15 min) before: ${input.loadBefore}, after: ${input.loadAfter}.`,
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = new Command('index-sync')
    .option('--rounds <n>', 'runs per form', '3')
    .option('--names <n>', 'names in the synthetic index', '750000')
    .option('--command <text>', 'the command line shown in the report')
    .option('--save-raw <file>', 'also write every sample (JSON) to FILE')
    .parse()
    .opts<{ rounds: string; names: string; command?: string; saveRaw?: string }>();
  const rounds = Number.parseInt(opts.rounds, 10);
  const names = Number.parseInt(opts.names, 10);
  const loadBefore = await loadAverage();
  const samples: SyncSample[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const form of interleave<IndexForm>(['json', 'html'], round, 0)) {
      const s = await syncOnce(form, names, round);
      log(
        `index sync ${form} round ${round}/${rounds}: ${s.wallS.toFixed(1)} s, ${s.peakMb?.toFixed(0) ?? '?'} MB` +
          `${s.ok ? '' : ` FAILED ${s.note}`}`,
      );
      samples.push(s);
    }
  }
  const date = utcNow();
  if (opts.saveRaw !== undefined)
    await writeFileMaking(opts.saveRaw, `${JSON.stringify({ date, names, samples }, null, 2)}\n`);
  process.stdout.write(
    render({
      command:
        opts.command ?? `node --import tsx bench/index-sync.ts ${process.argv.slice(2).join(' ')}`.trim(),
      date,
      names,
      rounds,
      samples,
      loadBefore,
      loadAfter: await loadAverage(),
    }),
  );
}

await main();
