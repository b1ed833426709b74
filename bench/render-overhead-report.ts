import { z } from 'zod';
import { LifecycleSample } from './sandbox-lifecycle.ts';
import { type Summary, summarize } from './stats.ts';

export const VARIANTS = ['bare', 'sandbox', 'strace', 'bpftrace'] as const;
export type Variant = (typeof VARIANTS)[number];

export const InstallSample = z.object({
  pkg: z.string(),
  variant: z.enum(VARIANTS),
  round: z.number().int(),
  ok: z.boolean(),
  /** Whole run: bare = temp dir + venv + pip + rm; sandbox = the analyze() call. */
  wallMs: z.number(),
  /** bare = venv + pip; sandbox = the install phase (bwrap launch, venv, pip). */
  innerMs: z.number(),
  note: z.string().nullable(),
});
export type InstallSample = z.infer<typeof InstallSample>;

/** Everything the report is rendered from; analyze-overhead.ts --save-raw writes it as JSON. */
export const ReportInput = z.object({
  command: z.string(),
  date: z.string(),
  machine: z.object({
    nproc: z.number(),
    cpuModel: z.string(),
    memoryGiB: z.number(),
    kernel: z.string(),
    node: z.string(),
    python: z.string(),
  }),
  rounds: z.number().int(),
  packages: z.array(z.object({ name: z.string(), file: z.string(), why: z.string() })),
  installs: z.array(InstallSample),
  lifecycle: z.array(LifecycleSample),
  notes: z.array(z.string()),
});
export type ReportInput = z.infer<typeof ReportInput>;

/** The issue's targets. */
export const TARGET_STRACE_RATIO = 1.6;
export const TARGET_LIFECYCLE_MS = 150;

const LABEL: Record<Variant, string> = {
  bare: 'bare',
  sandbox: 'sandbox',
  strace: 'sandbox+strace',
  bpftrace: 'sandbox+bpftrace',
};

function s(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function cell(summary: Summary | null): string {
  if (summary === null) return 'failed';
  return `${s(summary.median)} (${s(summary.min)}–${s(summary.max)})`;
}

function ratio(a: Summary | null, b: Summary | null): string {
  if (a === null || b === null || b.median === 0) return '–';
  return `${(a.median / b.median).toFixed(2)}x`;
}

function okSamples(installs: readonly InstallSample[], pkg: string, variant: Variant): InstallSample[] {
  return installs.filter((i) => i.pkg === pkg && i.variant === variant && i.ok);
}

function sumOfMedians(
  input: ReportInput,
  variant: Variant,
  field: 'wallMs' | 'innerMs',
  pkgs: readonly string[],
): number {
  let total = 0;
  for (const pkg of pkgs) {
    total += summarize(okSamples(input.installs, pkg, variant).map((i) => i[field]))?.median ?? 0;
  }
  return total;
}

/** traced/bare of each package where both variants succeeded. */
function perPackageRatios(
  input: ReportInput,
  tracer: 'strace' | 'bpftrace' = 'strace',
): { pkg: string; ratio: number }[] {
  return input.packages.flatMap((pkg) => {
    const bare = summarize(okSamples(input.installs, pkg.name, 'bare').map((i) => i.wallMs));
    const traced = summarize(okSamples(input.installs, pkg.name, tracer).map((i) => i.wallMs));
    return bare === null || traced === null || bare.median === 0
      ? []
      : [{ pkg: pkg.name, ratio: traced.median / bare.median }];
  });
}

function installSection(input: ReportInput): {
  lines: string[];
  ratio: number | null;
  bpfRatio: number | null;
} {
  const lines = [
    '### Install: bare vs sandbox vs sandbox+strace vs sandbox+bpftrace',
    '',
    'Seconds, median (min–max) of the rounds; the ratios divide medians.',
    '',
    '| package | file | bare | sandbox | sandbox+strace | sandbox+bpftrace | sandbox / bare | sandbox+strace / bare | sandbox+bpftrace / bare | strace / sandbox |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  // Packages where a variant failed would skew the totals: only complete ones count.
  const complete: string[] = [];
  for (const pkg of input.packages) {
    const sum = Object.fromEntries(
      VARIANTS.map((v) => [v, summarize(okSamples(input.installs, pkg.name, v).map((i) => i.wallMs))]),
    ) as Record<Variant, Summary | null>;
    if (VARIANTS.every((v) => sum[v] !== null)) complete.push(pkg.name);
    lines.push(
      `| ${pkg.name} | ${pkg.file} | ${cell(sum.bare)} | ${cell(sum.sandbox)} | ${cell(sum.strace)} | ${cell(sum.bpftrace)} | ` +
        `${ratio(sum.sandbox, sum.bare)} | ${ratio(sum.strace, sum.bare)} | ${ratio(sum.bpftrace, sum.bare)} | ${ratio(sum.strace, sum.sandbox)} |`,
    );
  }
  const total = Object.fromEntries(
    VARIANTS.map((v) => [v, sumOfMedians(input, v, 'wallMs', complete)]),
  ) as Record<Variant, number>;
  const overall = total.bare > 0 ? total.strace / total.bare : null;
  const bpfRatio = total.bare > 0 ? total.bpftrace / total.bare : null;
  if (overall !== null) {
    lines.push(
      `| **all ${complete.length} (sum of medians)** | | **${s(total.bare)}** | **${s(total.sandbox)}** | ` +
        `**${s(total.strace)}** | **${s(total.bpftrace)}** | **${(total.sandbox / total.bare).toFixed(2)}x** | **${overall.toFixed(2)}x** | ` +
        `**${(bpfRatio ?? 0).toFixed(2)}x** | **${(total.strace / total.sandbox).toFixed(2)}x** |`,
    );
  }
  return { lines, ratio: overall, bpfRatio };
}

/** The components of sandbox+strace's time, summed over the packages where every variant succeeded. */
function costRows(input: ReportInput): { pkgs: string[]; rows: [string, number][]; total: number } {
  const pkgs = input.packages
    .map((p) => p.name)
    .filter((name) => VARIANTS.every((v) => okSamples(input.installs, name, v).length > 0));
  const wall = (v: Variant) => sumOfMedians(input, v, 'wallMs', pkgs);
  const inner = (v: Variant) => sumOfMedians(input, v, 'innerMs', pkgs);
  const rows: [string, number][] = [
    ['bare: venv + pip (the baseline)', inner('bare')],
    ['bare: temp dir create + remove', wall('bare') - inner('bare')],
    [
      'sandbox: inside the install phase, beyond bare (bwrap/setpriv launch, cgroups, pip via netns forwarder + proxy)',
      inner('sandbox') - inner('bare'),
    ],
    [
      'sandbox: outside the phase (resolve, proxy, netns + netsvc, sandbox set-up, record, tear-down)',
      wall('sandbox') - inner('sandbox') - (wall('bare') - inner('bare')),
    ],
    ['strace: inside the install phase (tracing pip and its children)', inner('strace') - inner('sandbox')],
    [
      'strace: outside the phase (mostly parsing the trace into the record)',
      wall('strace') - inner('strace') - (wall('sandbox') - inner('sandbox')),
    ],
  ];
  return { pkgs, rows, total: wall('strace') };
}

function costSection(input: ReportInput): string[] {
  const { pkgs, rows, total } = costRows(input);
  if (pkgs.length === 0) return [];
  return [
    '### Where the time goes',
    '',
    `Sum over the ${pkgs.length} packages of the per-package medians, split with the install phase's own duration (` +
      '`phases.install.duration_ms`, which covers the runner creating the venv and running pip, like bare\'s "venv + pip").',
    '',
    '| component | seconds | share of sandbox+strace |',
    '| --- | --: | --: |',
    ...rows.map(([name, ms]) => `| ${name} | ${s(ms)} | ${((100 * ms) / total).toFixed(0)}% |`),
    `| **sandbox+strace total** | **${s(total)}** | 100% |`,
  ];
}

/** For a missed ratio target: the costs over bare, largest first. */
function missExplanation(input: ReportInput): string {
  const { rows } = costRows(input);
  const extra = rows.slice(2).filter(([, ms]) => ms > 0);
  const over = extra.reduce((sum, [, ms]) => sum + ms, 0);
  const ranked = [...extra].sort((a, b) => b[1] - a[1]);
  const parts = ranked.map(
    ([name, ms]) => `${name.replace(/ \(.*\)$/, '')} ${s(ms)} s (${((100 * ms) / over).toFixed(0)}%)`,
  );
  return `  What the ${s(over)} s over bare went to: ${parts.join(', ')}.`;
}

function lifecycleSection(samples: readonly LifecycleSample[]): { lines: string[]; median: number | null } {
  const ok = samples.filter((x) => x.ok);
  const steps: [string, keyof LifecycleSample][] = [
    ['createNetworkSandbox (netns, lo, nftables, netsvc.py ready)', 'netnsMs'],
    ['createSandbox (uid, tmpfs run dir, canaries, cgroups)', 'sandboxMs'],
    ["sandbox.exec(['/bin/true']) in the netns, no tracer", 'execMs'],
    ['tear-down: sandbox.destroy() + network.close() side by side', 'teardownMs'],
    ['**total**', 'totalMs'],
  ];
  const lines = [
    '### Sandbox set-up and tear-down',
    '',
    `${ok.length} of ${samples.length} cycles succeeded; milliseconds.`,
    '',
    '| step | median | min | max |',
    '| --- | --: | --: | --: |',
  ];
  for (const [name, key] of steps) {
    const sum = summarize(ok.map((x) => x[key] as number));
    if (sum === null) continue;
    lines.push(`| ${name} | ${sum.median.toFixed(0)} | ${sum.min.toFixed(0)} | ${sum.max.toFixed(0)} |`);
  }
  const failures = samples.filter((x) => !x.ok).map((x) => x.note ?? 'failed');
  if (failures.length > 0) lines.push('', `Failures: ${[...new Set(failures)].join('; ')}`);
  return { lines, median: summarize(ok.map((x) => x.totalMs))?.median ?? null };
}

/** The "## Analyze overhead" section of docs/BENCHMARKS.md. */
export function renderOverheadReport(input: ReportInput): string {
  const m = input.machine;
  const install = installSection(input);
  const lifecycle = lifecycleSection(input.lifecycle);
  const verdict = (met: boolean) => (met ? '**met**' : '**missed**');
  const targets: string[] = ['### Targets', ''];
  if (install.ratio !== null) {
    targets.push(
      `- sandbox+strace ≤ ${TARGET_STRACE_RATIO}x bare (all packages, sum of medians): ` +
        `${install.ratio.toFixed(2)}x, ${verdict(install.ratio <= TARGET_STRACE_RATIO)}.`,
    );
    if (install.ratio > TARGET_STRACE_RATIO) targets.push(missExplanation(input));
  }
  if (install.bpfRatio !== null) {
    const bpfOver = perPackageRatios(input, 'bpftrace').filter((r) => r.ratio > TARGET_STRACE_RATIO);
    targets.push(
      `- sandbox+bpftrace ≤ ${TARGET_STRACE_RATIO}x bare (all packages, sum of medians; one bpftrace per process, ` +
        `its start-up paid in the discarded warm-up round): ${install.bpfRatio.toFixed(2)}x, ` +
        `${verdict(install.bpfRatio <= TARGET_STRACE_RATIO)}` +
        (bpfOver.length === 0
          ? '; every package within it.'
          : `; over it: ${bpfOver.map((r) => `${r.pkg} ${r.ratio.toFixed(2)}x`).join(', ')}.`) +
        ' This holds for a process that runs many analyses (hunt, worker); a one-off `bin/pkghunt analyze` ' +
        'also pays the start-up given in the notes, which is why `analyze` keeps strace by default.',
    );
  }
  const ratios = perPackageRatios(input);
  if (ratios.length > 0) {
    const over = ratios.filter((r) => r.ratio > TARGET_STRACE_RATIO);
    targets.push(
      `- sandbox+strace per package: ${ratios.length - over.length} of ${ratios.length} within ${TARGET_STRACE_RATIO}x` +
        (over.length === 0
          ? '.'
          : `; over it: ${over.map((r) => `${r.pkg} ${r.ratio.toFixed(2)}x`).join(', ')} ` +
            '(the fixed cost of each analysis weighs most on the quickest installs, see below).'),
    );
  }
  if (lifecycle.median !== null) {
    targets.push(
      `- sandbox set-up + tear-down ≤ ${TARGET_LIFECYCLE_MS} ms (median of ${input.lifecycle.length}): ` +
        `${lifecycle.median.toFixed(0)} ms, ${verdict(lifecycle.median <= TARGET_LIFECYCLE_MS)}.`,
    );
  }
  const failed = input.installs.filter((i) => !i.ok);
  const failures =
    failed.length === 0
      ? []
      : [
          '### Failed runs (left out of the medians)',
          '',
          ...failed.map((f) => `- ${f.pkg}, ${LABEL[f.variant]}, round ${f.round}: ${f.note ?? 'failed'}`),
          '',
        ];
  return [
    '## Analyze overhead',
    '',
    `Measured on ${input.date} with \`${input.command}\`.`,
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB.toFixed(1)} GiB RAM, Linux ${m.kernel}, ` +
      `Node ${m.node}, ${m.python}. A shared, noisy VM: compare ratios from one run, not numbers across runs.`,
    '',
    'Each package is installed four ways, interleaved (the order of the variants rotates every round, ' +
      `${input.rounds} rounds, after one discarded warm-up round):`,
    '',
    '- **bare**: a fresh venv on tmpfs (`python3 -m venv --without-pip`, /usr/bin/python3) and ' +
      "pip started exactly as sandbox/runner.py starts it (the venv's interpreter on pip's `__pip-runner__.py`, " +
      '`install --no-compile --isolated`) with the options, clean environment and fresh empty pip cache (a new `HOME`) ' +
      'that the runner gives pip; no sandbox, no tracer: the same pip work, so the ratios are what the sandbox and the tracer add ' +
      '(before 2026-11-29 both started pip as `python3 -m pip --python VENV` and byte-compiled: see "Hunt throughput").',
    "- **sandbox**: `analyze(pkg, {tracer: 'none', phases: ['install']})`, end to end.",
    "- **sandbox+strace**: `analyze(pkg, {tracer: 'strace', phases: ['install']})`, end to end.",
    "- **sandbox+bpftrace**: `analyze(pkg, {tracer: 'bpftrace', phases: ['install']})`, end to end; the " +
      'long-lived bpftrace of the benchmark process is started in the warm-up round (its start-up is in the notes).',
    '',
    'All three fetch from the same local index (`.cache/bench-index`, built by `bench/build-bench-index.ts`: ' +
      'the demo fixtures, setuptools/wheel/packaging, and real releases downloaded once from the index pip is ' +
      'configured with) through the same index proxy code: bare pip reaches an in-process proxy via a loopback ' +
      'TCP forwarder, sandboxed pip reaches its own via netsvc.py in the namespace.',
    '',
    ...install.lines,
    '',
    ...targets,
    '',
    ...costSection(input),
    '',
    ...lifecycle.lines,
    '',
    ...failures,
    ...(input.notes.length > 0 ? ['### Notes', '', ...input.notes.map((n) => `- ${n}`), ''] : []),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

async function main(): Promise<void> {
  const [rawPath] = process.argv.slice(2);
  if (rawPath === undefined) {
    process.stderr.write(
      'usage: render-overhead-report.ts RAW.json (written by analyze-overhead.ts --save-raw)\n',
    );
    process.exit(2);
  }
  const { readFile } = await import('node:fs/promises');
  const parsed = ReportInput.safeParse(JSON.parse(await readFile(rawPath, 'utf8')));
  if (!parsed.success)
    throw new Error(`Cannot read ${rawPath}: ${parsed.error.issues[0]?.message ?? 'bad shape'}`);
  process.stdout.write(renderOverheadReport(parsed.data));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
