import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { PkghuntError } from '../core/errors.ts';
import { isPopular, PopularList, popularNames } from '../core/population/popularity.ts';
import { createPopulationBuilder, type Population } from '../core/population/population.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import { latestRecords, type RecordSource } from './record-source.ts';

/** The committed list of popular projects (names with download counts). */
export const POPULAR_LIST_FILE = join(PROJECT_ROOT, 'data/popular-pypi.json');

/** Normalised names of the popular list; an absent file means no popular packages. */
export async function readPopularNames(path: string = POPULAR_LIST_FILE): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw new PkghuntError('CONFIG_INVALID', `Cannot read the popular list ${path}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot parse the popular list ${path}: not JSON`, { cause });
  }
  const parsed = PopularList.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot parse the popular list ${path}`, {
      hint: 'Expected an array of names or of { name, downloads }, or { packages | projects | rows: [...] }.',
      cause: parsed.error,
    });
  }
  return popularNames(parsed.data);
}

async function _uploadTimes(store: RecordSource, record: BehaviourRecord): Promise<(string | null)[]> {
  if (store.listReleases) {
    const releases = await store.listReleases(record.package.name, { ecosystem: record.package.ecosystem });
    if (releases.length > 0) return releases.map((r) => r.uploadTime);
  }
  const files = record.package.metadata?.files;
  if (!Array.isArray(files)) return [];
  return files.map((f: unknown) =>
    typeof f === 'object' && f !== null && 'upload_time' in f && typeof f.upload_time === 'string'
      ? f.upload_time
      : null,
  );
}

/**
 * How common each behaviour is across the store (one vote per project: the first of its
 * analysed releases streamed), with popular
 * and long-lived projects counted apart. One pass over the records: build it once per run.
 * `ecosystem`: only that ecosystem's records (what is normal for an npm install is not for pip's);
 * the popular list is PyPI's, so npm packages are popular only by how long they have been released.
 */
export async function populationFromStore(
  store: RecordSource,
  options: { popularFile?: string; ecosystem?: Ecosystem } = {},
): Promise<Population> {
  const names = await readPopularNames(options.popularFile);
  const builder = createPopulationBuilder();
  const filter = options.ecosystem !== undefined ? { ecosystem: options.ecosystem } : {};
  // Releases an analyst confirmed malicious do not count: a campaign must not make itself common.
  const malicious = (await store.triageBaseline?.())?.malicious ?? new Set<string>();
  for await (const record of latestRecords(store, filter)) {
    // Decisions name PyPI releases: the dashboard reads the PyPI record of a project and version.
    const key = `${normalizeName(record.package.name)}==${record.package.version}`;
    if (record.package.ecosystem === 'pypi' && malicious.has(key)) continue;
    const popular = isPopular(record.package.name, {
      popularNames: record.package.ecosystem === 'npm' ? new Set<string>() : names,
      uploadTimes: await _uploadTimes(store, record),
    });
    builder.add(record, { popular });
  }
  return builder.build();
}

/**
 * The population of each ecosystem, built on first use and kept for the rest of the run (a hunt,
 * a worker). Called without an ecosystem: PyPI's.
 */
export function createPopulationCache(
  store: RecordSource,
  options: { popularFile?: string } = {},
): (ecosystem?: Ecosystem) => Promise<Population> {
  const pending = new Map<Ecosystem, Promise<Population>>();
  return (ecosystem = 'pypi') => {
    let built = pending.get(ecosystem);
    if (built === undefined) {
      built = populationFromStore(store, { ...options, ecosystem }).catch((error: unknown) => {
        pending.delete(ecosystem);
        throw error;
      });
      pending.set(ecosystem, built);
    }
    return built;
  };
}
