import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import { blobPath } from '../adapters/registry/file-cache.ts';
import type { ResultStore } from '../adapters/store/store.ts';
import type { Allowlist } from '../core/detect/allowlist.ts';
import { evaluateRecord, staticFindingsOf } from '../core/detect/evaluate-record.ts';
import type { PopulationView } from '../core/detect/population-view.ts';
import { PkghuntError, toPkghuntError } from '../core/errors.ts';
import { falsePositiveReport, type PopularOutcome } from '../core/eval/false-positives.ts';
import { type SampleOutcome, sampleOutcome, scoreOutcome, unanalysedSample } from '../core/eval/outcome.ts';
import { popularProjectNames } from '../core/eval/popular-list.ts';
import { recallReport } from '../core/eval/recall.ts';
import { type EvalReport, evaluateTargets } from '../core/eval/render-eval.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import { BehaviourRecord, type Verdict } from '../core/record/schema.ts';
import type { StaticFinding } from '../core/static/scan-static-signals.ts';
import { staticFindingsOfArtifact } from './detect-record.ts';
import { populationFromStore } from './population-from-store.ts';
import { latestRecords } from './record-source.ts';
import { readPopularList } from './seed-popular.ts';

const run = promisify(execFile);

export interface EvalOptions {
  /** Records of the malware samples (`<name>-<version>.json`), from `make dataset`; null: no recall. */
  samplesDir: string | null;
  /** The dataset (labels.tsv, samples.zip); when absent, the samples are the records in samplesDir. */
  datasetDir: string | null;
  /** The store of the popular hunt; null: no false-positive rate. */
  popularStore: ResultStore | null;
  popularListFile: string;
  /** Where analyze cached the artifacts (`<cache>/artifacts`), for the static scan of popular ones. */
  artifactsDir: string;
  /** Weigh scores with the popular store's population, as a hunt does. */
  population: boolean;
  command: string;
  allowlist?: Allowlist;
  onProgress?: (message: string) => void;
  onWarning?: (message: string) => void;
}

const LabelRow = z.object({
  sample_path: z.string().min(1),
  package: z.string().min(1),
  version: z.string().min(1),
  static_tags: z.string().optional(),
});
type LabelRow = z.infer<typeof LabelRow>;

/** labels.tsv of the dataset: a header line, then one tab-separated row per sample. */
export function parseLabels(text: string): LabelRow[] {
  const [header, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  const columns = (header ?? '').split('\t');
  return lines.map((line, i) => {
    const cells = line.split('\t');
    const parsed = LabelRow.safeParse(Object.fromEntries(columns.map((c, j) => [c, cells[j]])));
    if (!parsed.success) {
      throw new PkghuntError(
        'EVAL_INPUT_INVALID',
        `Cannot parse labels.tsv line ${i + 2}: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  });
}

/** A record file as analyze --out writes it; null when empty, missing or an `{error}` object. */
export async function readRecordFile(path: string): Promise<BehaviourRecord | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null || text.trim() === '') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new PkghuntError('EVAL_INPUT_INVALID', `Cannot parse the record ${path}: not JSON`, { cause });
  }
  if (typeof raw === 'object' && raw !== null && 'error' in raw) return null;
  const parsed = BehaviourRecord.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'EVAL_INPUT_INVALID',
      `Cannot read the record ${path}: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

interface StaticScan {
  findings: StaticFinding[];
  files: number | null;
}

async function _scan(
  artifact: { path: string; filename: string },
  options: Pick<EvalOptions, 'onWarning'>,
  ecosystem: 'pypi' | 'npm' = 'pypi',
): Promise<StaticScan | null> {
  try {
    return await staticFindingsOfArtifact(artifact, ecosystem);
  } catch (error) {
    options.onWarning?.(`Static scan of ${artifact.filename} skipped: ${toPkghuntError(error).message}`);
    return null;
  }
}

function _score(
  record: BehaviourRecord,
  scan: StaticScan | null,
  options: { allowlist: Allowlist; view: PopulationView | undefined },
): Verdict {
  return evaluateRecord(record, {
    allowlist: options.allowlist,
    // Without the artifact the static findings the record was stored with still count.
    staticFindings: scan?.findings ?? staticFindingsOf(record),
    staticFiles: scan?.files ?? record.verdict?.static_files ?? null,
    ...(options.view ? { population: options.view } : {}),
  });
}

/**
 * A stored record scored again with the current rules; the static rules read the package's own
 * artifact again when the cache (`<cache>/artifacts`, by sha256) still has it.
 */
export async function rescoreStoredRecord(
  record: BehaviourRecord,
  options: {
    artifactsDir: string;
    allowlist: Allowlist;
    view: PopulationView | undefined;
    onWarning?: (message: string) => void;
  },
): Promise<Verdict> {
  let scan: StaticScan | null = null;
  const artifact = record.package.artifact;
  if (artifact !== null) {
    const path = blobPath(options.artifactsDir, artifact.sha256);
    if (
      await stat(path)
        .then((s) => s.isFile())
        .catch(() => false)
    ) {
      scan = await _scan({ path, filename: artifact.filename }, options, record.package.ecosystem);
    }
  }
  return _score(record, scan, options);
}

/**
 * Unpacks the encrypted sample archive into a private temp dir (pkghunt-eval-*) so that the
 * static scan can read each sample's archive in memory; nothing is built, installed or run.
 */
async function _withSamples<T>(datasetDir: string, body: (root: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-eval-'));
  try {
    const script =
      'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z:\n    z.extractall(sys.argv[2], pwd=b"infected")\n';
    await run('python3', ['-I', '-S', '-c', script, join(datasetDir, 'samples.zip'), dir]);
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function _samples(
  options: EvalOptions & { allowlist: Allowlist; view: PopulationView | undefined },
): Promise<SampleOutcome[]> {
  const samplesDir = options.samplesDir as string;
  const labelsPath = options.datasetDir === null ? null : join(options.datasetDir, 'labels.tsv');
  const labels = labelsPath === null ? null : await readFile(labelsPath, 'utf8').catch(() => null);
  if (labels === null || options.datasetDir === null) {
    // No dataset: every record in the folder is a sample, scored with the static findings it carries.
    const files = (await readdir(samplesDir)).filter((f) => f.endsWith('.json')).sort();
    const out: SampleOutcome[] = [];
    for (const f of files) {
      const record = await readRecordFile(join(samplesDir, f));
      if (record !== null) out.push(sampleOutcome(record, _score(record, null, options)));
    }
    return out;
  }
  const rows = parseLabels(labels);
  const datasetDir = options.datasetDir;
  return _withSamples(datasetDir, async (root) => {
    const out: SampleOutcome[] = [];
    for (const [i, row] of rows.entries()) {
      options.onProgress?.(`[${i + 1}/${rows.length}] ${row.package} ${row.version}`);
      const record = await readRecordFile(join(samplesDir, `${row.package}-${row.version}.json`));
      if (record === null) {
        out.push(unanalysedSample(row.package, row.version));
        continue;
      }
      const path = join(root, 'samples', row.sample_path);
      const scan = await _scan({ path, filename: basename(path) }, options);
      out.push(sampleOutcome(record, _score(record, scan, options)));
    }
    return out;
  });
}

async function _popular(
  store: ResultStore,
  options: EvalOptions & { allowlist: Allowlist; view: PopulationView | undefined },
): Promise<PopularOutcome[]> {
  const names = popularProjectNames(await readPopularList(options.popularListFile));
  const listed = new Set(names);
  const records = new Map<string, BehaviourRecord>();
  for await (const record of latestRecords(store)) {
    const key = normalizeName(record.package.name);
    if (listed.has(key)) records.set(key, record);
  }
  const failures = new Map((await store.failedJobs()).map((j) => [normalizeName(j.project), j]));
  const out: PopularOutcome[] = [];
  for (const [i, name] of names.entries()) {
    const record = records.get(name);
    if (record === undefined) {
      const failed = failures.get(name);
      if (failed !== undefined) {
        out.push({ state: 'failed', name, version: failed.version, reason: failed.lastError ?? 'failed' });
        continue;
      }
      const releases = await store.listReleases(name).catch(() => []);
      out.push({
        state: 'not_analysed',
        name,
        reason:
          releases.length === 0
            ? 'not scheduled (the hunt has not reached it, or it has no installable release)'
            : 'scheduled, not analysed yet',
      });
      continue;
    }
    options.onProgress?.(`[${i + 1}/${names.length}] ${name}`);
    out.push({
      ...scoreOutcome(record, await rescoreStoredRecord(record, options)),
      state: 'analysed',
      installStatus: record.phases.install?.status ?? null,
      importStatus: record.phases.import?.status ?? null,
      installLimits: record.phases.install?.limits_hit ?? [],
    });
  }
  return out;
}

/** Scores the stored records again with the current rules: recall over samples, false positives over popular. */
export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const allowlist = options.allowlist ?? (await loadAllowlist());
  let view: PopulationView | undefined;
  if (options.population && options.popularStore !== null) {
    view = await populationFromStore(options.popularStore, { popularFile: options.popularListFile });
  }
  const context = { ...options, allowlist, view };
  const recall = options.samplesDir === null ? null : recallReport(await _samples(context));
  const falsePositives =
    options.popularStore === null ? null : falsePositiveReport(await _popular(options.popularStore, context));
  return {
    generatedAt: new Date().toISOString(),
    command: options.command,
    machine: `${hostname()}`,
    population: view ? view.packages : null,
    recall,
    falsePositives,
    targets: evaluateTargets(recall, falsePositives),
  };
}
