import { readFile } from 'node:fs/promises';
import type { ResultStore } from '../adapters/store/store.ts';
import { PkghuntError } from '../core/errors.ts';
import { PopularListFile, popularProjectNames } from '../core/eval/popular-list.ts';

/** Reads and validates data/popular-pypi.json (or another list of the same shape). */
export async function readPopularList(path: string): Promise<PopularListFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new PkghuntError('EVAL_INPUT_INVALID', `Cannot read the popular list ${path}`, { cause });
  }
  const parsed = PopularListFile.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'EVAL_INPUT_INVALID',
      `Cannot parse the popular list ${path}: ${parsed.error.issues[0]?.message ?? 'bad shape'}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/**
 * Puts the popular projects in the store's project list, so that `hunt --from` selects them
 * without first syncing the whole index's list of names (which a hunt does on an empty store).
 */
export async function seedPopularProjects(
  store: Pick<ResultStore, 'upsertProjects'>,
  list: PopularListFile,
  options: { top?: number } = {},
): Promise<string[]> {
  const names = popularProjectNames(list, options);
  await store.upsertProjects(names.map((name) => ({ name, normalized: name, lastSerial: null })));
  return names;
}
