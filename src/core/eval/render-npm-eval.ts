import type { FalsePositiveReport } from './false-positives.ts';
import type { FiredRule } from './outcome.ts';
import type { PopularNpmListFile } from './popular-npm-list.ts';
import { percent, renderFalsePositiveSection, type Target } from './render-eval.ts';

/** `eval --npm-records` as `--json` prints it: false positives over the popular npm packages. */
export interface NpmEvalReport {
  generatedAt: string;
  command: string;
  machine: string;
  list: { file: string; date: string; source: PopularNpmListFile['source']; count: number };
  falsePositives: FalsePositiveReport;
  /** Installed packages flagged by the verdict stored in their record (the rules of the run). */
  atAnalysis: { name: string; level: string; score: number }[];
  /** Clean packages that scored 10 or more: one more finding would flag them. */
  nearMisses: { name: string; version: string | null; score: number; fired: FiredRule[] }[];
  targets: Target[];
  /** When the kept records were made (their started_at), with which tracer and pkghunt version. */
  records: {
    /** Each start of the runner (DIR/runs.ndjson): the tree and commit that made the records. */
    runs: { started_at: string; tree: string; commit: string; uncommitted_changes: boolean }[];
    first: string | null;
    last: string | null;
    tracers: string[];
    tools: string[];
  };
  /** Wall time of the analyses that produced a record (started_at to finished_at), seconds. */
  analysisSeconds: { count: number; median: number | null; max: number | null; total: number };
}

function _seconds(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(1)} s`;
}

/** The "npm false positives" section of docs/BENCHMARKS.md (and `eval --npm-records --markdown`). */
export function renderNpmEvalMarkdown(report: NpmEvalReport): string {
  const f = report.falsePositives;
  const { source } = report.list;
  const done = f.analysed + f.failed.length;
  const partial = f.notAnalysed.length > 0;
  const out: string[] = [
    '## npm false positives',
    '',
    'Produced by `scripts/eval-npm-popular.sh` (README, "npm false positives"): every package of `data/popular-npm.json` is',
    'analysed for real with `bin/pkghunt analyze npm:NAME --json` (npm install with its lifecycle scripts, then the',
    'import phase, in the sandbox, through the npm proxy, default tracer strace), two at once, each record kept; then',
    '`pkghunt eval --npm-records DIR` re-scores every kept record with the current rules (no sandbox re-run; the static',
    "rules read each package's tarball again from the run's cache) and writes this section. Scored without a population,",
    'as `pkghunt analyze` scores a single package.',
    '',
    `List: the first ${report.list.count} names of \`${source.file}\` of ${source.repository} at commit ${source.commit}${source.package ? ` (${source.package})` : ''}, ${report.list.date}; ranked by ${source.ranking}.`,
    '',
    `Run: \`${report.command}\` on ${report.generatedAt.slice(0, 10)}, ${report.machine}.`,
    partial
      ? `**Partial**: ${done} of ${f.listed} packages done (${f.notAnalysed.length} not analysed yet); the rates below are over what is done.`
      : `Complete: all ${f.listed} packages were tried.`,
    `Records analysed from ${report.records.first?.slice(0, 16).replace('T', ' ') ?? 'n/a'} to ${report.records.last?.slice(0, 16).replace('T', ' ') ?? 'n/a'} UTC (tracer ${report.records.tracers.join(', ') || 'n/a'}; ${report.records.tools.join(', ') || 'n/a'}).`,
    ...report.records.runs.map(
      (r) =>
        `Runner started ${r.started_at.slice(0, 16).replace('T', ' ')} UTC from ${r.tree}, commit ${r.commit.slice(0, 7)}${r.uncommitted_changes ? ' with uncommitted changes' : ''}.`,
    ),
    `Analysis time per package (the ${report.analysisSeconds.count} with a record): median ${_seconds(report.analysisSeconds.median)}, max ${_seconds(report.analysisSeconds.max)}, total ${(report.analysisSeconds.total / 3600).toFixed(1)} h (two at once).`,
    '',
    '| target (issue 7) | goal | measured | met |',
    '| --- | --- | --- | --- |',
  ];
  for (const t of report.targets) {
    out.push(
      `| ${t.what} | ${t.goal} | ${percent(t.value)} | ${t.met === null ? 'n/a' : t.met ? 'yes' : 'no'} |`,
    );
  }
  const then = (level: 'malicious' | 'suspicious') =>
    report.atAnalysis.filter((p) => level === 'suspicious' || p.level === 'malicious');
  const thenLine = (level: 'malicious' | 'suspicious') =>
    `${percent(f.installed === 0 ? null : then(level).length / f.installed)} (${then(level).length}/${f.installed}${
      then(level).length > 0
        ? `: ${then(level)
            .map((p) => `${p.name} ${p.score}`)
            .join(', ')}`
        : ''
    })`;
  out.push(
    '',
    `With the rules the records were scored with when analysed (the verdict stored in each record), before the rule changes made after this run: malicious ${thenLine('malicious')}; suspicious or worse ${thenLine('suspicious')}.`,
    '',
    ...renderFalsePositiveSection(f, {
      heading: '### False positives over the most depended-upon npm packages',
      noun: 'packages',
    }),
  );
  if (f.falsePositives.length === 0 && f.installed > 0) out.push('No installed package was flagged.', '');
  if (report.nearMisses.length > 0) {
    out.push(
      `Clean, but with a score of 10 or more (one more finding would flag them; ${report.nearMisses.length}):`,
      '',
    );
    for (const m of report.nearMisses) {
      const rules = m.fired.map(
        (r) => `${r.rule} (${r.points}) at ${r.where}: \`${r.evidence.replaceAll('`', "'").slice(0, 90)}\``,
      );
      out.push(`- ${m.name} ${m.version ?? ''}, score ${m.score}: ${rules.join('; ')}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
