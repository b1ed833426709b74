import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.ts';
import { PkghuntError } from '../core/errors.ts';
import { isPopular, PopularList, popularNames } from '../core/population/popularity.ts';
import { createPopulationBuilder, type Population } from '../core/population/population.ts';
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
    const releases = await store.listReleases(record.package.name);
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
 */
export async function populationFromStore(
  store: RecordSource,
  options: { popularFile?: string } = {},
): Promise<Population> {
  const names = await readPopularNames(options.popularFile);
  const builder = createPopulationBuilder();
  for await (const record of latestRecords(store)) {
    const popular = isPopular(record.package.name, {
      popularNames: names,
      uploadTimes: await _uploadTimes(store, record),
    });
    builder.add(record, { popular });
  }
  return builder.build();
}

/** The population built on first use and kept for the rest of the run (a hunt, a worker). */
export function createPopulationCache(
  store: RecordSource,
  options: { popularFile?: string } = {},
): () => Promise<Population> {
  let pending: Promise<Population> | null = null;
  return () => {
    pending ??= populationFromStore(store, options).catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}
