import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { isValidNpmName } from '../../core/npm/npm-package-spec.ts';
import type { ProjectInput } from '../store/store.ts';
import { fetchWithRetry } from './fetch-with-retry.ts';

/** The most a search page holds (the registry API's documented maximum of `size`). */
export const SEARCH_PAGE_SIZE = 250;
/** Where a listing by search stops: deep pages are slow and ranked, not a complete listing. */
export const SEARCH_MAX_RESULTS = 10_000;

/** One page of `GET /-/v1/search` (only what is read; the rest passes). */
const SearchPage = z
  .object({
    objects: z.array(
      z
        .object({
          package: z
            .object({ name: z.string(), version: z.string().optional(), date: z.string().optional() })
            .loose(),
        })
        .loose(),
    ),
    total: z.number().int().nonnegative(),
  })
  .loose();

export interface ListNpmPackagesOptions {
  /** Search text (`/-/v1/search?text=`): required for an http(s) registry. */
  search?: string;
  batchSize?: number;
  /** Stop after this many results (default SEARCH_MAX_RESULTS). */
  maxResults?: number;
  /** Smaller pages than the registry's maximum (tests of the paging). */
  pageSize?: number;
  onBatch: (batch: ProjectInput[]) => Promise<void>;
}

export interface ListNpmPackagesResult {
  count: number;
  format: 'directory' | 'search';
  /** Search only: how many the registry said match (it may be more than were listed). */
  total: number | null;
}

function project(name: string): ProjectInput {
  return { ecosystem: 'npm', name, normalized: name, lastSerial: null };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() === true;
}

/** A directory registry (demo/build-npm-registry.ts): every `NAME/index.json` and `@scope/NAME/index.json`. */
async function listDirectory(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    if (!entry.isDirectory()) continue;
    if (entry.name.startsWith('@')) {
      for (const inner of (await readdir(join(root, entry.name), { withFileTypes: true })).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      )) {
        const name = `${entry.name}/${inner.name}`;
        if (inner.isDirectory() && isValidNpmName(name) && (await isFile(join(root, name, 'index.json'))))
          names.push(name);
      }
    } else if (isValidNpmName(entry.name) && (await isFile(join(root, entry.name, 'index.json')))) {
      names.push(entry.name);
    }
  }
  return names;
}

async function searchPage(
  registry: string,
  text: string,
  from: number,
  size: number,
): Promise<z.infer<typeof SearchPage>> {
  const url = new URL('-/v1/search', registry);
  url.searchParams.set('text', text);
  url.searchParams.set('size', String(size));
  url.searchParams.set('from', String(from));
  const response = await fetchWithRetry(url.href, { headers: { Accept: 'application/json' } });
  if (response.status === 404 || response.status === 405 || response.status === 501) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      'LISTING_UNSUPPORTED',
      `Cannot list the packages of the registry ${registry}: it answers ${response.status} to /-/v1/search`,
      { hint: 'Give the names to hunt in a file instead (--from FILE, one name per line).' },
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      'INDEX_UNREACHABLE',
      `Cannot search the registry ${registry}: it answered ${response.status}`,
      { hint: 'Try again later, or give the names in a file (--from FILE).' },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(await response.text());
  } catch (cause) {
    throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot parse the search answer of ${url.href}: not JSON`, {
      cause,
    });
  }
  const parsed = SearchPage.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PkghuntError(
      'INDEX_BAD_RESPONSE',
      `Cannot read the search answer of ${url.href}: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/**
 * Lists an npm registry's packages, as far as the registry offers a list: a directory registry
 * by its folders; an http(s) registry through its search endpoint (`/-/v1/search?text=&size=&from=`,
 * paged until the results end, `total` is reached or `maxResults`), which needs a search text:
 * npm registries have no complete listing (`/-/all` is gone from the public registry, and its
 * changes feed lives on another host). A registry without search fails LISTING_UNSUPPORTED.
 * Names the registry would not accept are skipped; each name is handed on once.
 */
export async function listNpmPackages(
  registry: string,
  options: ListNpmPackagesOptions,
): Promise<ListNpmPackagesResult> {
  const batchSize = options.batchSize ?? 1000;
  let batch: ProjectInput[] = [];
  let count = 0;
  const seen = new Set<string>();
  async function add(name: string): Promise<void> {
    if (!isValidNpmName(name) || seen.has(name)) return;
    seen.add(name);
    batch.push(project(name));
    count++;
    if (batch.length >= batchSize) await flush();
  }
  async function flush(): Promise<void> {
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    await options.onBatch(full);
  }

  if (registry.startsWith('file:')) {
    for (const name of await listDirectory(fileURLToPath(registry))) await add(name);
    await flush();
    return { count, format: 'directory', total: null };
  }
  const text = options.search?.trim() ?? '';
  if (text === '') {
    throw new PkghuntError(
      'LISTING_UNSUPPORTED',
      `Cannot list every package of the registry ${registry}: npm registries offer no complete list`,
      {
        hint: 'Give the names in a file (--from FILE), or a search text (--search TEXT, e.g. scope:myorg or keywords:foo).',
      },
    );
  }
  const max = options.maxResults ?? SEARCH_MAX_RESULTS;
  const size = Math.min(options.pageSize ?? SEARCH_PAGE_SIZE, SEARCH_PAGE_SIZE);
  let from = 0;
  let total = 0;
  while (from < max) {
    const page = await searchPage(registry, text, from, Math.min(size, max - from));
    total = page.total;
    for (const object of page.objects) await add(object.package.name);
    from += page.objects.length;
    if (page.objects.length === 0 || from >= page.total) break;
  }
  await flush();
  return { count, format: 'search', total };
}
