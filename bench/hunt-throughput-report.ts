import type { RunSample, ThroughputRaw } from './hunt-raw.ts';
import { summarize } from './stats.ts';

const TARGET_VS_BARE = 0.8;
const TARGET_SCALING = 1.7;

export function perMinute(s: RunSample): number {
  return (s.done / s.wallS) * 60;
}

function jobsPerMinute(s: RunSample): number | null {
  return s.jobsS === null || s.jobsS <= 0 ? null : (s.done / s.jobsS) * 60;
}

/** CPU seconds per package of a run (user+sys of the whole process tree / packages done). */
export function cpuPerPackage(s: RunSample): number | null {
  return s.cpuS === null || s.done === 0 ? null : s.cpuS / s.done;
}

function pick<T>(values: readonly (T | null)[]): T[] {
  return values.filter((v): v is T => v !== null);
}

export function medianOf(values: readonly number[]): number | null {
  return summarize(values)?.median ?? null;
}

function range(values: readonly number[], digits: number): string {
  const s = summarize(values);
  return s === null
    ? 'n/a'
    : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

function label(variant: string): string {
  if (variant === 'bare') return 'bare pip install';
  if (variant === 'hunt-none') return 'hunt, `--tracer none` (sandbox only; no valid record)';
  if (variant.endsWith('-install'))
    return `hunt, \`--tracer ${variant.slice('hunt-'.length, -'-install'.length)} --phases install\` (no import phase)`;
  return `hunt, \`--tracer ${variant.slice('hunt-'.length)}\``;
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

function pct(r: number | null): string {
  return r === null ? 'n/a' : `${(r * 100).toFixed(0)}%`;
}

/** Throughput (median of the rounds) of one variant at one worker count; failed runs count as run. */
export function medianThroughput(raw: ThroughputRaw, variant: string, workers: number): number | null {
  return medianOf(raw.samples.filter((s) => s.variant === variant && s.workers === workers).map(perMinute));
}

/** The "## Hunt throughput" section of docs/BENCHMARKS.md. */
export function renderThroughput(raw: ThroughputRaw): string {
  const names = raw.packages.map((p) => p.name);
  const lines = [
    '## Hunt throughput',
    '',
    `Measured on ${raw.date} with \`${raw.command}\`.`,
    `Machine: ${raw.machine}. A shared, noisy VM: other engineers' tests ran at the same time; compare the ratios of this run.`,
    '',
    `The same ${names.length} benign packages (${names.join(', ')}; the bench index of \`bench/build-bench-index.ts\`, ` +
      'files served by the same index proxy code to every variant) are processed by each variant at 1 and 2 at once:',
    '',
    '- **bare pip install**: `bench/hunt-bare-batch.ts --concurrency K`, one process running `bareInstall` (a fresh venv on tmpfs and ' +
      '`pip install --isolated` with a fresh empty cache, no sandbox, no tracer, as in "Analyze overhead") from a shared queue, K at once.',
    '- **hunt**: `bin/pkghunt hunt --index-url file://.cache/bench-index/simple --db NEW.db --from LIST --workers K --tracer T --max-attempts 1 --json`, ' +
      'a fresh SQLite store every run: it lists the index, schedules the projects, and analyses each (install **and** import phase, ' +
      'each in a new sandbox, record stored, trace compressed).',
    '',
    `Every combination runs once per round, in an order rotated every round (${raw.rounds} rounds, after a discarded warm-up). ` +
      'Throughput is packages done per minute of the whole command (process start to exit, including node start-up, ' +
      'and for hunt the index listing and scheduling); "jobs only" counts from hunt\'s first job-start to its last job-end. ' +
      'CPU is user+sys of the command and everything it started (a cpuacct cgroup per run), divided by the packages done.',
    '',
    '| variant | workers | runs with all done | wall, s | packages/min | packages/min, jobs only | CPU s per package | vs bare, same workers |',
    '| ------- | ------: | -----------------: | ------: | -----------: | ----------------------: | ----------------: | --------------------: |',
  ];
  for (const variant of raw.variants) {
    for (const workers of [1, 2]) {
      const runs = raw.samples.filter((s) => s.variant === variant && s.workers === workers);
      if (runs.length === 0) continue;
      const complete = runs.filter((s) => s.done === s.packages).length;
      const vsBare =
        variant === 'bare'
          ? '—'
          : pct(ratio(medianThroughput(raw, variant, workers), medianThroughput(raw, 'bare', workers)));
      lines.push(
        `| ${label(variant)} | ${workers} | ${complete}/${runs.length} | ${range(
          runs.map((s) => s.wallS),
          1,
        )} | ${range(runs.map(perMinute), 1)} | ${
          variant === 'bare' ? '—' : range(pick(runs.map(jobsPerMinute)), 1)
        } | ${range(pick(runs.map(cpuPerPackage)), 2)} | ${vsBare} |`,
      );
    }
  }

  lines.push(
    '',
    '### Scaling, 2 workers / 1 worker',
    '',
    '| variant | packages/min, 1 worker | packages/min, 2 workers | 2 / 1 |',
    '| ------- | ---------------------: | ----------------------: | ----: |',
  );
  for (const variant of raw.variants) {
    const one = medianThroughput(raw, variant, 1);
    const two = medianThroughput(raw, variant, 2);
    const r = ratio(two, one);
    lines.push(
      `| ${label(variant)} | ${one?.toFixed(1) ?? 'n/a'} | ${two?.toFixed(1) ?? 'n/a'} | ${r === null ? 'n/a' : `${r.toFixed(2)}x`} |`,
    );
  }

  const configs = raw.variants.flatMap((v) => [1, 2].map((w) => ({ v, w })));
  lines.push(
    '',
    '### Every run',
    '',
    'Packages/min of the whole command, and in brackets the 1-minute load average when it started.',
    '',
    `| round | ${configs.map((c) => `${c.v} x${c.w}`).join(' | ')} |`,
    `| ----: | ${configs.map(() => '---:').join(' | ')} |`,
  );
  const roundNumbers = [...new Set(raw.samples.map((s) => s.round))].sort((a, b) => a - b);
  for (const round of roundNumbers) {
    const cells = configs.map((c) => {
      const s = raw.samples.find((x) => x.round === round && x.variant === c.v && x.workers === c.w);
      return s === undefined ? '—' : `${perMinute(s).toFixed(1)} (${s.load.split(' ')[0]})`;
    });
    lines.push(`| ${round} | ${cells.join(' | ')} |`);
  }

  const tracer = raw.variants.find((v) => v === 'hunt-bpftrace') ?? 'hunt-strace';
  const paired = roundNumbers.flatMap((round) => {
    const one = raw.samples.find((x) => x.round === round && x.variant === tracer && x.workers === 1);
    const two = raw.samples.find((x) => x.round === round && x.variant === tracer && x.workers === 2);
    return one === undefined || two === undefined
      ? []
      : [{ r: perMinute(two) / perMinute(one), load: Number(two.load.split(' ')[0]) }];
  });
  const bestPair = paired.reduce<{ r: number; load: number } | null>(
    (best, p) => (best === null || p.r > best.r ? p : best),
    null,
  );
  const vs1 = ratio(medianThroughput(raw, tracer, 1), medianThroughput(raw, 'bare', 1));
  const vs2 = ratio(medianThroughput(raw, tracer, 2), medianThroughput(raw, 'bare', 2));
  const scaling = ratio(medianThroughput(raw, tracer, 2), medianThroughput(raw, tracer, 1));
  const bareScaling = ratio(medianThroughput(raw, 'bare', 2), medianThroughput(raw, 'bare', 1));
  const noneVs2 = ratio(medianThroughput(raw, 'hunt-none', 2), medianThroughput(raw, 'bare', 2));
  const installOnly = raw.variants.find((v) => v === `${tracer}-install`);
  const installVs1 =
    installOnly === undefined
      ? null
      : ratio(medianThroughput(raw, installOnly, 1), medianThroughput(raw, 'bare', 1));
  const installVs2 =
    installOnly === undefined
      ? null
      : ratio(medianThroughput(raw, installOnly, 2), medianThroughput(raw, 'bare', 2));
  const cpu1 = medianOf(
    pick(raw.samples.filter((s) => s.variant === tracer && s.workers === 1).map(cpuPerPackage)),
  );
  const cpuBare = medianOf(
    pick(raw.samples.filter((s) => s.variant === 'bare' && s.workers === 1).map(cpuPerPackage)),
  );
  const cores = Number(/^(\d+) CPUs/.exec(raw.machine)?.[1] ?? '2');
  const ceiling = cpu1 === null ? null : (cores * 60) / cpu1;
  const two = medianThroughput(raw, tracer, 2);
  const ok = (r: number | null, target: number): string => (r !== null && r >= target ? 'met' : 'missed');
  lines.push(
    '',
    '### Targets',
    '',
    `With the fastest tracer \`hunt\` offers on this checkout (\`--tracer ${tracer.slice('hunt-'.length)}\`):`,
    '',
    `- at least ${pct(TARGET_VS_BARE)} of bare throughput, 1 worker: ${pct(vs1)}, **${ok(vs1, TARGET_VS_BARE)}**; ` +
      `2 workers: ${pct(vs2)}, **${ok(vs2, TARGET_VS_BARE)}**.`,
    `- 2 workers at least ${TARGET_SCALING}x one worker: ${scaling === null ? 'n/a' : `${scaling.toFixed(2)}x`}, **${ok(scaling, TARGET_SCALING)}**.`,
    '',
    '### What limits it',
    '',
    `- CPU: one hunted package costs ${cpu1?.toFixed(2) ?? '?'} CPU-seconds (bare pip: ${cpuBare?.toFixed(2) ?? '?'}); ` +
      `${cores} CPUs can therefore do at most ${ceiling?.toFixed(1) ?? '?'} packages/min with any number of workers, ` +
      `and 2 workers reached ${two?.toFixed(1) ?? '?'}. ` +
      `Bare pip itself only scales ${bareScaling === null ? '?' : `${bareScaling.toFixed(2)}x`} from 1 to 2 at once on this machine: ` +
      "pip is CPU-bound (resolver, unpacking, byte-compiling, setuptools builds), so two of them fill the two CPUs, and other engineers' tests took their share.",
    `- Other work on the machine: 2 workers need both CPUs, 1 worker needs one, so competing load takes more from the 2-worker runs. ` +
      `Within one round, 2 / 1 workers ranged ${paired.length === 0 ? 'n/a' : `${Math.min(...paired.map((p) => p.r)).toFixed(2)}x–${Math.max(...paired.map((p) => p.r)).toFixed(2)}x`}` +
      `${bestPair === null ? '' : `; the best, ${bestPair.r.toFixed(2)}x, at a load of ${bestPair.load.toFixed(2)} when the 2-worker run started`} (see "Every run").`,
    `- The tracer: without it (\`--tracer none\`, not a valid analysis: no files or commands recorded) hunt reaches ${pct(noneVs2)} of bare at 2 workers; ` +
      'the rest of the gap is strace (every traced system call stops the tracee twice and wakes strace; see "Analyze overhead") and the import phase, which bare does not run.',
    ...(installOnly === undefined
      ? []
      : [
          `- The import phase: with \`--phases install\` (the same work as bare pip) hunt reaches ${pct(installVs1)} of bare with 1 worker ` +
            `and ${pct(installVs2)} with 2; the import phase (a second sandbox that imports every top-level module) costs the difference.`,
        ]),
    '- Fixed costs per package that bare does not pay: two sandboxes (install, then import), the network namespace with its services, the record, trace compression and the SQLite commit; and per command the index listing and scheduling.',
  );
  if (raw.tracersMissing.length > 0) {
    lines.push(
      `- Not measured: \`--tracer ${raw.tracersMissing.join('`, `--tracer ')}\` is not offered by \`hunt\` on this checkout yet (its \`--tracer\` accepts ${raw.variants
        .filter((v) => v.startsWith('hunt-'))
        .map((v) => v.slice('hunt-'.length))
        .join(', ')}).`,
    );
  }
  const failed = raw.samples.filter((s) => s.failed.length > 0);
  if (failed.length > 0) {
    lines.push(
      '',
      '### Runs with packages not done (they count as not done in the throughput)',
      '',
      ...failed.map(
        (s) =>
          `- ${s.variant} x${s.workers}, round ${s.round}: ${s.failed.join(', ')}${s.note === null ? '' : ` (${s.note})`}`,
      ),
    );
  }
  const loads = raw.samples.map((s) => Number(s.load.split(' ')[0]));
  lines.push(
    '',
    '### Notes',
    '',
    `- Load average (1, 5, 15 min) before: ${raw.loadBefore}, after: ${raw.loadAfter}; the 1-minute load at the start of each run: ` +
      `${range(loads, 2)} (2 CPUs: above ~1 means other work competed with the runs).`,
    '- The packages are small (a bare install takes 0.6–2 s), so fixed per-package costs weigh more than they would on a typical release with a real build.',
    '',
  );
  return lines.join('\n');
}
