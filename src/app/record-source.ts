import { compare } from '@renovatebot/pep440';
import type { ReleaseInput } from '../adapters/store/store.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import type { TriageBaseline } from '../core/triage/triage-baseline.ts';

/**
 * What the population, diff and report need from a store. Both engines (SQLite, PostgreSQL)
 * provide `getRecord`; the streaming and "previous release" methods are used when the store has
 * them, with slower fallbacks otherwise (see `latestRecords`, `previousRecordOf`).
 */
export interface RecordSource {
  getRecord(
    name: string,
    version?: string,
    options?: { ecosystem?: Ecosystem },
  ): Promise<BehaviourRecord | null>;
  iterateRecords?(options: { latestOnly: boolean; ecosystem?: Ecosystem }): AsyncIterable<BehaviourRecord>;
  exportRecords?(options?: { since?: string; ecosystem?: Ecosystem }): AsyncIterable<BehaviourRecord>;
  previousRecord?(
    name: string,
    version: string,
    options?: { ecosystem?: Ecosystem },
  ): Promise<BehaviourRecord | null>;
  listReleases?(project: string, options?: { ecosystem?: Ecosystem }): Promise<ReleaseInput[]>;
  /** What the analysts' triage decisions teach the scoring (added by app/triage-feed.ts). */
  triageBaseline?(): Promise<TriageBaseline>;
}

/** Which ecosystem's records a stream reads; absent: every ecosystem. */
export interface EcosystemFilter {
  ecosystem?: Ecosystem;
}

/** A project's identity across ecosystems: `pypi:normalised-name` or `npm:name`. */
export function projectIdentity(record: BehaviourRecord): string {
  const { ecosystem, name } = record.package;
  return ecosystem === 'npm' ? `npm:${name}` : `pypi:${normalizeName(name)}`;
}

/**
 * The latest stored record of each analysed release (ecosystem, project, version), streamed: with
 * `hunt --all-versions` a project counts once per release.
 */
export async function* latestRecords(
  store: RecordSource,
  filter: EcosystemFilter = {},
): AsyncIterable<BehaviourRecord> {
  if (store.iterateRecords) {
    yield* store.iterateRecords({ latestOnly: true, ...filter });
    return;
  }
  if (!store.exportRecords) return;
  // Fallback: exportRecords is oldest first, so the last record seen per release is its latest.
  const latest = new Map<string, BehaviourRecord>();
  for await (const record of store.exportRecords(filter)) {
    latest.set(`${projectIdentity(record)} ${record.package.version}`, record);
  }
  yield* latest.values();
}

/**
 * The latest analysed release of each project (highest PEP 440 version; the one stored last when
 * versions do not parse), streamed in two passes so that memory holds one version string per
 * project, not one record: what the study counts (a project once, whatever `--all-versions` stored).
 */
export async function* latestReleasePerProject(
  store: RecordSource,
  filter: EcosystemFilter = {},
): AsyncIterable<BehaviourRecord> {
  const chosen = new Map<string, string | null>();
  for await (const record of latestRecords(store, filter)) {
    const name = projectIdentity(record);
    const seen = chosen.get(name);
    const version = record.package.version;
    if (seen === undefined || seen === null || version === null || !_isLower(version, seen))
      chosen.set(name, version);
  }
  const done = new Set<string>();
  for await (const record of latestRecords(store, filter)) {
    const name = projectIdentity(record);
    if (done.has(name) || chosen.get(name) !== record.package.version) continue;
    done.add(name);
    yield record;
  }
}

/** The record of the release analysed before `version` of the same project, or null. */
export async function previousRecordOf(
  store: RecordSource,
  name: string,
  version: string | null,
  options: { ecosystem?: Ecosystem } = {},
): Promise<BehaviourRecord | null> {
  if (version === null) return null;
  const ecosystem = options.ecosystem ?? 'pypi';
  if (store.previousRecord) return store.previousRecord(name, version, { ecosystem });
  if (store.listReleases) {
    // Releases come newest upload first; the first older one with a record is it.
    const releases = await store.listReleases(name, { ecosystem });
    const index = releases.findIndex((r) => r.version === version);
    for (const release of index < 0 ? [] : releases.slice(index + 1)) {
      const record = await store.getRecord(name, release.version, { ecosystem });
      if (record !== null) return record;
    }
  }
  if (!store.exportRecords) return null;
  // Last resort (releases not scheduled through the store, e.g. stored by `diff`): the highest
  // analysed version below this one.
  let best: BehaviourRecord | null = null;
  const same = (other: string): boolean =>
    ecosystem === 'npm' ? other === name : normalizeName(other) === normalizeName(name);
  for await (const record of store.exportRecords({ ecosystem })) {
    const other = record.package.version;
    if (!same(record.package.name) || other === null) continue;
    if (!_isLower(other, version)) continue;
    if (best === null || _isLower(best.package.version ?? '', other)) best = record;
  }
  return best;
}

function _isLower(a: string, b: string): boolean {
  try {
    return compare(a, b) < 0;
  } catch {
    return false;
  }
}
