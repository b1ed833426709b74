import type { ProfileRun, RunSample, ThroughputRaw } from './hunt-raw.ts';
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
  if (variant === 'bare-runner') return "bare pip, started as the hunt's runner starts it";
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
export function medianThroughput(
  raw: Pick<ThroughputRaw, 'samples'>,
  variant: string,
  workers: number,
): number | null {
  return medianOf(raw.samples.filter((s) => s.variant === variant && s.workers === workers).map(perMinute));
}

/** A job's stages in the order they happen, with what each one is (analyze's `stage` events). */
const STAGES: readonly (readonly [string, string])[] = [
  ['resolve', 'release page and JSON metadata from the index'],
  ['tracer-select', 'tracer chosen'],
  ['capabilities', 'capability checks (once per process; the first job also starts bpftrace)'],
  ['netns-create', 'network namespace, nftables, netsvc (made during the previous job from the 2nd on)'],
  ['proxy-start', 'index proxy'],
  ['sandbox-create', 'sandbox: uid, tmpfs run dir with canaries, cgroups'],
  [
    'install:launcher',
    'install: launch to runner start (tracer registration, cgroups, netns, setpriv, bwrap, Python)',
  ],
  ['install:venv', 'install: venv'],
  ['install:pip', 'install: pip install (traced)'],
  ['install:reap', 'install: leftover processes'],
  ['install:inspect', "install: the venv's distributions and the import plan"],
  ['install:exit', 'install: runner end to launcher exit (a launch per phase only; one launch: 0)'],
  ['install:after', 'install: kill check, cgroup counters, disk check'],
  ['install:run', "install: launch to the install phase's end (the rows above, from install:launcher)"],
  ['install:trace-settle', 'install: trace complete (bpftrace stop markers)'],
  ['install:capture', "install: sinkhole events settled (netsvc's sync)"],
  ['install:parse', 'install: trace parsed into the phase (during the import phase)'],
  ['install:trace-store', 'install: trace reduced, compressed, stored (during the import phase)'],
  [
    'install:trace-split',
    "install: one launch: the trace's install part copied out (during the import phase)",
  ],
  ['import:run', 'import: launch, or go-ahead in one launch, to the end (the rows below, to import:after)'],
  ['import:launcher', 'import: launch (one launch: go-ahead) to runner start'],
  ['import:inspect', 'import: the import plan read'],
  ['import:dependency-imports', "import: dependencies' modules imported"],
  ['import:imports', "import: the package's modules imported"],
  ['import:exit', 'import: runner end to launcher exit'],
  ['import:after', 'import: kill check, cgroup counters, disk check'],
  ['import:trace-settle', 'import: trace complete'],
  ['import:trace-split', "import: one launch: the trace's import part copied out"],
  ['import:capture', 'import: netsvc stopped, namespace deleted'],
  ['import:parse', 'import: trace parsed'],
  ['import:trace-store', 'import: trace stored'],
  ['teardown', 'sandbox torn down (begun during the last phase), proxy closed'],
  ['detect', 'verdict (the static scan started when the artifact was known)'],
  ['analyze', 'analyze() in all'],
  ['enrich', 'record enriched (population, previous release)'],
  ['store-complete', 'result, facts and job completion committed (SQLite)'],
];

function meanPerPackage(run: ProfileRun, stage: string): number | null {
  const values = run.stages.filter((s) => s.stage === stage).map((s) => s.ms);
  const packages = new Set(run.jobs.map((j) => j.project)).size;
  if (values.length === 0 || packages === 0) return null;
  return values.reduce((a, b) => a + b, 0) / packages;
}

/** "Where a job's time goes": mean ms per package of every stage, one column per profiled run. */
export function renderStageBreakdown(profiles: readonly ProfileRun[]): string[] {
  if (profiles.length === 0) return [];
  const known = new Set(STAGES.map(([stage]) => stage));
  const extra = [...new Set(profiles.flatMap((p) => p.stages.map((s) => s.stage)))].filter(
    (s) => !known.has(s),
  );
  const rows: (readonly [string, string])[] = [...STAGES, ...extra.map((s) => [s, s] as const)];
  const head = profiles.map((p) => `\`--tracer ${p.tracer}\` x${p.workers}, ms`);
  const cell = (v: number | null): string => (v === null ? '—' : v.toFixed(0));
  const lines = [
    '',
    "### Where a job's time goes",
    '',
    'One more hunt of the same packages per worker count, after the timed rounds, through `bench/hunt-profile.ts` ' +
      "(the app's `hunt()` with analyze's `stage` events recorded; same store, tracer and phases as the timed runs): " +
      'mean milliseconds per package of each stage. The install trace is read and stored while the import phase runs, ' +
      'and with 2 workers two jobs share the CPUs, so stages do not add up to the job.',
    '',
    `| stage | what | ${head.join(' | ')} |`,
    `| ----- | ---- | ${profiles.map(() => '---:').join(' | ')} |`,
  ];
  for (const [stage, what] of rows) {
    const values = profiles.map((p) => meanPerPackage(p, stage));
    if (values.every((v) => v === null)) continue;
    lines.push(`| ${stage} | ${what} | ${values.map(cell).join(' | ')} |`);
  }
  const jobMean = (p: ProfileRun): number | null =>
    p.jobs.length === 0 ? null : p.jobs.reduce((a, j) => a + j.ms, 0) / p.jobs.length;
  lines.push(
    `| job | job-start to job-end | ${profiles.map((p) => cell(jobMean(p))).join(' | ')} |`,
    `| per command: to the first job | start-up, index listing, scheduling (once per hunt) | ${profiles
      .map((p) => cell(p.startToFirstJobMs))
      .join(' | ')} |`,
    `| per command: hunt's own CPU | node process, all threads, whole run (ms) | ${profiles
      .map((p) => cell(p.nodeCpuMs))
      .join(' | ')} |`,
    '',
    `1-minute load when each profile run started: ${profiles.map((p) => `x${p.workers} ${p.load.split(' ')[0]}`).join(', ')}.`,
  );
  return lines;
}

/**
 * The traced hunt variant (not `none`, not install-only) with the highest median throughput with
 * 2 workers (ties: with 1): the one the targets are judged on.
 */
export function fastestTracer(raw: Pick<ThroughputRaw, 'variants' | 'samples'>): string {
  const traced = raw.variants.filter(
    (v) => v.startsWith('hunt-') && v !== 'hunt-none' && !v.endsWith('-install'),
  );
  const score = (v: string): [number, number] => [
    medianThroughput(raw, v, 2) ?? -1,
    medianThroughput(raw, v, 1) ?? -1,
  ];
  return (
    [...traced].sort((a, b) => {
      const [a2, a1] = score(a);
      const [b2, b1] = score(b);
      return b2 - a2 || b1 - a1;
    })[0] ?? 'hunt-strace'
  );
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
      '`python3 -m pip --python VENV install --isolated` with a fresh empty cache, no sandbox, no tracer, as in "Analyze overhead") from a shared queue, K at once: ' +
      'the command a user types to install into a fresh venv that has no pip of its own. **The targets are measured against this.**',
    "- **bare pip, started as the hunt's runner starts it**: the same with `--like-runner`: the venv's interpreter runs pip's `__pip-runner__.py` " +
      "directly (what `--python` does in a second process) with `--no-compile`, exactly as `sandbox/runner.py` starts pip: the same pip work as the hunt's install phase, " +
      'so that the difference left to the hunt is the sandbox, the tracer and the rest of the analysis (like for like).',
    '- **hunt**: `bin/pkghunt hunt --index-url file://.cache/bench-index/simple --db NEW.db --from LIST --workers K --tracer T --max-attempts 1 --json`, ' +
      'a fresh SQLite store every run: it lists the index, schedules the projects, and analyses each (install **and** import phase, ' +
      'one fresh sandbox per package; with strace or no tracer one launch runs both phases, with bpftrace a launch per phase; ' +
      'record stored, trace compressed).',
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
          variant.startsWith('bare') ? '—' : range(pick(runs.map(jobsPerMinute)), 1)
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

  const tracer = fastestTracer(raw);
  const others = raw.variants.filter(
    (v) => v.startsWith('hunt-') && v !== tracer && v !== 'hunt-none' && !v.endsWith('-install'),
  );
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
    `With the tracer that was fastest in this run (\`--tracer ${tracer.slice('hunt-'.length)}\`: the highest median throughput with 2 workers, then 1):`,
    '',
    `- at least ${pct(TARGET_VS_BARE)} of bare throughput, 1 worker: ${pct(vs1)}, **${ok(vs1, TARGET_VS_BARE)}**; ` +
      `2 workers: ${pct(vs2)}, **${ok(vs2, TARGET_VS_BARE)}**.`,
    ...(raw.variants.includes('bare-runner')
      ? [
          `- Like for like (against bare pip started as the runner starts it, the same pip work): ${pct(
            ratio(medianThroughput(raw, tracer, 1), medianThroughput(raw, 'bare-runner', 1)),
          )} with 1 worker, ${pct(ratio(medianThroughput(raw, tracer, 2), medianThroughput(raw, 'bare-runner', 2)))} with 2: ` +
            'what the sandbox, the tracer, the import phase and the record cost. The hunt gains on plain bare pip by starting pip once instead of twice and not byte-compiling ' +
            "(compiling runs none of the package's code; the import phase compiles what it imports).",
        ]
      : []),
    `- 2 workers at least ${TARGET_SCALING}x one worker: ${scaling === null ? 'n/a' : `${scaling.toFixed(2)}x`}, **${ok(scaling, TARGET_SCALING)}**.`,
    ...others.map((other) => {
      const o1 = ratio(medianThroughput(raw, other, 1), medianThroughput(raw, 'bare', 1));
      const o2 = ratio(medianThroughput(raw, other, 2), medianThroughput(raw, 'bare', 2));
      const os = ratio(medianThroughput(raw, other, 2), medianThroughput(raw, other, 1));
      return `- With \`--tracer ${other.slice('hunt-'.length)}\`: ${pct(o1)} of bare with 1 worker, ${pct(o2)} with 2, and ${os === null ? 'n/a' : `${os.toFixed(2)}x`} from 1 to 2.`;
    }),
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
      'the rest of the gap is the tracer (bpftrace: its records printed, converted, parsed and stored; strace: every traced system call stops the tracee twice and wakes strace, see "Analyze overhead") and the import phase, which bare does not run.',
    ...(installOnly === undefined
      ? []
      : [
          `- The import phase: with \`--phases install\` (the same work as bare pip) hunt reaches ${pct(installVs1)} of bare with 1 worker ` +
            `and ${pct(installVs2)} with 2; the import phase (a second launch into the sandbox that imports every top-level module, each in its own process) costs the difference.`,
        ]),
    "- Fixed costs per package that bare does not pay: a sandbox launch (one for both phases with strace, one per phase with bpftrace) with its runner, the network namespace with its services, the record, trace parsing and compression and the SQLite commit; and per command the CLI start-up (larger than the bare runner's), bpftrace's start-up (~1 s of LLVM), the index listing and scheduling (see \"Where a job's time goes\").",
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
  lines.push(...renderStageBreakdown(raw.profiles));
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
