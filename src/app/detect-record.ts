import { readSourceFiles } from '../adapters/archive/read-source-files.ts';
import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import type { Allowlist } from '../core/detect/allowlist.ts';
import { evaluateRecord } from '../core/detect/evaluate-record.ts';
import type { PopulationView } from '../core/detect/population-view.ts';
import { scanNpmStaticSignals } from '../core/detect/rules/npm-rules.ts';
import { toPkghuntError } from '../core/errors.ts';
import type { BehaviourRecord, Verdict } from '../core/record/schema.ts';
import { type StaticFinding, scanStaticSignals } from '../core/static/scan-static-signals.ts';

export interface DetectOptions {
  /** The artifact pip installed (local file or the proxy's cached copy); null: no static scan. */
  artifact: { path: string; filename: string } | null;
  allowlist?: Allowlist;
  population?: PopulationView;
  onWarning?: (message: string) => void;
  /** `npm`: the artifact is an npm tarball (package.json and JavaScript are scanned). */
  ecosystem?: 'pypi' | 'npm';
  /** The static scan of `artifact`, already started (staticFindingsOfArtifact): not read twice. */
  staticScan?: Promise<{ findings: StaticFinding[]; files: number }>;
}

/** Static signals of an artifact: read from the archive in memory, never extracted or run. */
export async function staticFindingsOfArtifact(
  artifact: { path: string; filename: string },
  ecosystem: 'pypi' | 'npm' = 'pypi',
): Promise<{ findings: StaticFinding[]; files: number }> {
  const sources = await readSourceFiles(artifact.path, { filename: artifact.filename, sources: ecosystem });
  const scan = ecosystem === 'npm' ? scanNpmStaticSignals : scanStaticSignals;
  return { findings: scan(sources.files), files: sources.files.length };
}

/**
 * The record with its verdict: static signals of the artifact plus every rule over the
 * behaviour. A static scan that fails (unreadable archive) leaves `static_files: null` and a
 * warning; the dynamic verdict stands.
 */
export async function detectRecord(record: BehaviourRecord, options: DetectOptions): Promise<Verdict> {
  const allowlist = options.allowlist ?? (await loadAllowlist());
  let scan: { findings: StaticFinding[]; files: number } | null = null;
  if (options.artifact !== null) {
    try {
      scan = await (options.staticScan ??
        staticFindingsOfArtifact(options.artifact, options.ecosystem ?? record.package.ecosystem));
    } catch (error) {
      options.onWarning?.(`Static scan skipped: ${toPkghuntError(error).message}`);
    }
  }
  return evaluateRecord(record, {
    allowlist,
    staticFindings: scan?.findings ?? [],
    staticFiles: scan?.files ?? null,
    ...(options.population ? { population: options.population } : {}),
  });
}
