import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import type { Allowlist } from '../core/detect/allowlist.ts';
import { PkghuntError } from '../core/errors.ts';
import { falsePositiveReport, type PopularOutcome } from '../core/eval/false-positives.ts';
import { scoreOutcome } from '../core/eval/outcome.ts';
import { npmRecordFileName, PopularNpmListFile, popularNpmNames } from '../core/eval/popular-npm-list.ts';
import { falsePositiveTargets } from '../core/eval/render-eval.ts';
import type { NpmEvalReport } from '../core/eval/render-npm-eval.ts';
import { readRecordFile, rescoreStoredRecord } from './eval.ts';

export interface NpmEvalOptions {
  /** The runner's folder (scripts/eval-npm-popular.sh): records/NAME.json and failed/NAME.json. */
  dir: string;
  listFile: string;
  /** Where the runner's npm proxy cached the tarballs (default DIR/cache/artifacts). */
  artifactsDir?: string;
  command: string;
  allowlist?: Allowlist;
  onProgress?: (message: string) => void;
  onWarning?: (message: string) => void;
}

/** runs.ndjson: one line per start of the runner, which code made the records. */
const RunnerStart = z.object({
  started_at: z.string(),
  tree: z.string(),
  commit: z.string(),
  uncommitted_changes: z.boolean(),
});

async function _runnerStarts(dir: string): Promise<z.infer<typeof RunnerStart>[]> {
  const text = await readFile(join(dir, 'runs.ndjson'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let raw: unknown = null;
      try {
        raw = JSON.parse(line);
      } catch {}
      const parsed = RunnerStart.safeParse(raw);
      if (!parsed.success)
        throw new PkghuntError('EVAL_INPUT_INVALID', `Cannot parse runs.ndjson line ${i + 1} in ${dir}`);
      return parsed.data;
    });
}

/** A clean package at or above this score is one more finding away from suspicious (20). */
const NEAR_MISS_SCORE = 10;

/** failed/NAME.json: an analysis that ended without a record, as the runner wrote it down. */
export const NpmAnalysisFailure = z.object({
  name: z.string(),
  exit: z.number().int(),
  seconds: z.number().optional(),
  at: z.string().optional(),
  reason: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).passthrough().nullable().optional(),
  stderr_tail: z.string().optional(),
});
export type NpmAnalysisFailure = z.infer<typeof NpmAnalysisFailure>;

async function _readJson(path: string, what: string): Promise<unknown | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null || text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PkghuntError('EVAL_INPUT_INVALID', `Cannot parse ${what} ${path}: not JSON`, { cause });
  }
}

export async function readPopularNpmList(path: string): Promise<PopularNpmListFile> {
  const raw = await _readJson(path, 'the popular npm list');
  const parsed = PopularNpmListFile.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'EVAL_INPUT_INVALID',
      `Cannot parse the popular npm list ${path}: ${parsed.error.issues[0]?.message ?? 'missing'}`,
      {
        cause: parsed.error,
        hint: 'Expected data/popular-npm.json: { date, source, count, rows: [{ rank, name }] }.',
      },
    );
  }
  return parsed.data;
}

async function _readFailure(path: string): Promise<NpmAnalysisFailure | null> {
  const raw = await _readJson(path, 'the failure note');
  if (raw === null) return null;
  const parsed = NpmAnalysisFailure.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'EVAL_INPUT_INVALID',
      `Cannot read the failure note ${path}: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

function _median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The report goes into the docs: registry addresses in error messages are left out. */
function _withoutUrls(text: string): string {
  return text.replace(/\s+at\s+https?:\/\/\S+/g, '').replace(/https?:\/\/\S+/g, '<url>');
}

/** Why npm's install failed, in its own words: the phase's reason and npm's first error lines. */
function _installReason(install: { reason: string | null; stderr_tail: string }): string | null {
  const npmSays = install.stderr_tail
    .split('\n')
    .filter(
      (l) =>
        /^npm (error|ERR!) /.test(l) && !/complete log of this run|^npm (error|ERR!) (path|command) /.test(l),
    )
    .slice(0, 2)
    .map((l) => l.replace(/^npm (error|ERR!) /, ''));
  const parts = [install.reason, ...npmSays].filter((p): p is string => p !== null && p !== '');
  return parts.length === 0 ? null : _withoutUrls(parts.join('; '));
}

/**
 * False positives over the most depended-upon npm packages: every kept record (the runner's
 * `analyze npm:NAME --json`) scored again with the current rules, no sandbox re-run. Scored
 * without a population, as `pkghunt analyze` scores a single package.
 */
export async function runNpmEval(options: NpmEvalOptions): Promise<NpmEvalReport> {
  const list = await readPopularNpmList(options.listFile);
  const allowlist = options.allowlist ?? (await loadAllowlist());
  const artifactsDir = options.artifactsDir ?? join(options.dir, 'cache', 'artifacts');
  const names = popularNpmNames(list);
  const outcomes: PopularOutcome[] = [];
  const seconds: number[] = [];
  const started: string[] = [];
  const tracers = new Set<string>();
  const tools = new Set<string>();
  /** Installed packages the verdict stored in the record (the rules of the run) flagged. */
  const storedFlags: { name: string; level: string; score: number }[] = [];
  for (const [i, name] of names.entries()) {
    const file = npmRecordFileName(name);
    const record = await readRecordFile(join(options.dir, 'records', file));
    if (record === null) {
      const failure = await _readFailure(join(options.dir, 'failed', file));
      outcomes.push(
        failure === null
          ? {
              state: 'not_analysed',
              name,
              reason: 'not analysed yet (run scripts/eval-npm-popular.sh to go on)',
            }
          : { state: 'failed', name, version: null, reason: _withoutUrls(failure.reason) },
      );
      continue;
    }
    if (record.package.ecosystem !== 'npm' || record.package.name !== name) {
      throw new PkghuntError(
        'EVAL_INPUT_INVALID',
        `Cannot use records/${file}: it is the record of ${record.package.ecosystem} ${record.package.name}, not npm ${name}`,
      );
    }
    options.onProgress?.(`[${i + 1}/${names.length}] ${name}`);
    const took = (Date.parse(record.finished_at) - Date.parse(record.started_at)) / 1000;
    if (Number.isFinite(took)) seconds.push(took);
    if (record.started_at !== '') started.push(record.started_at);
    tracers.add(record.sandbox.tracer);
    tools.add(`${record.tool.name} ${record.tool.version}`);
    const verdict = await rescoreStoredRecord(record, {
      artifactsDir,
      allowlist,
      view: undefined,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    const install = record.phases.install;
    if (install?.status === 'completed' && record.verdict) {
      const flagged = { name, level: record.verdict.level, score: record.verdict.score };
      if (record.verdict.level !== 'clean') storedFlags.push(flagged);
    }
    outcomes.push({
      ...scoreOutcome(record, verdict),
      state: 'analysed',
      installStatus: install?.status ?? null,
      importStatus: record.phases.import?.status ?? null,
      installLimits: install?.limits_hit ?? [],
      installReason: install === undefined ? null : _installReason(install),
    });
  }
  const falsePositives = falsePositiveReport(outcomes);
  const nearMisses = outcomes.flatMap((o) =>
    o.state === 'analysed' && o.level === 'clean' && o.score >= NEAR_MISS_SCORE
      ? [{ name: o.name, version: o.version, score: o.score, fired: o.fired }]
      : [],
  );
  return {
    generatedAt: new Date().toISOString(),
    command: options.command,
    machine: hostname(),
    list: { file: options.listFile, date: list.date, source: list.source, count: names.length },
    falsePositives,
    atAnalysis: storedFlags,
    nearMisses: nearMisses.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name)),
    targets: falsePositiveTargets(falsePositives, 'the most depended-upon npm packages'),
    records: {
      runs: await _runnerStarts(options.dir),
      first: started.sort()[0] ?? null,
      last: started.at(-1) ?? null,
      tracers: [...tracers].sort(),
      tools: [...tools].sort(),
    },
    analysisSeconds: {
      count: seconds.length,
      median: _median(seconds),
      max: seconds.length === 0 ? null : Math.max(...seconds),
      total: seconds.reduce((a, b) => a + b, 0),
    },
  };
}
