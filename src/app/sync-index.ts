import { listNpmPackages } from '../adapters/registry/list-npm-packages.ts';
import { listProjects } from '../adapters/registry/list-projects.ts';
import type { ResultStore } from '../adapters/store/store.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';

export interface SyncSummary {
  ecosystem: Ecosystem;
  projects: number;
  added: number;
  /** PyPI: json, html or directory; npm: directory or search. */
  format: string;
  /** npm search: how many packages the registry said match (more may exist than were listed). */
  total?: number | null;
  durationMs: number;
}

export interface SyncOptions {
  reporter?: Reporter;
  batchSize?: number;
  /** Default pypi: `indexUrl` is a simple index; npm: it is a registry URL or directory. */
  ecosystem?: Ecosystem;
  /** npm over http(s): the search text whose results are listed (the registry has no complete list). */
  search?: string;
}

/**
 * Stores every project the index lists (name and normalised name), streaming the list into
 * batched transactions: memory stays bounded by one batch, whatever the size of the index.
 * npm: what the registry offers (src/adapters/registry/list-npm-packages.ts).
 */
export async function syncIndex(
  store: ResultStore,
  indexUrl: string,
  options: SyncOptions = {},
): Promise<SyncSummary> {
  const reporter = options.reporter ?? silentReporter;
  const ecosystem = options.ecosystem ?? 'pypi';
  const started = Date.now();
  let added = 0;
  let seen = 0;
  const onBatch = async (batch: Parameters<ResultStore['upsertProjects']>[0]): Promise<void> => {
    added += await store.upsertProjects(batch);
    seen += batch.length;
    reporter.report({ type: 'sync-progress', projects: seen });
  };
  const batchSize = options.batchSize !== undefined ? { batchSize: options.batchSize } : {};
  const listed =
    ecosystem === 'npm'
      ? await listNpmPackages(indexUrl, {
          ...batchSize,
          ...(options.search !== undefined ? { search: options.search } : {}),
          onBatch,
        })
      : await listProjects(indexUrl, { ...batchSize, onBatch });
  const summary: SyncSummary = {
    ecosystem,
    projects: listed.count,
    added,
    format: listed.format,
    ...('total' in listed ? { total: listed.total } : {}),
    durationMs: Date.now() - started,
  };
  reporter.report({
    type: 'sync-end',
    projects: summary.projects,
    added,
    format: summary.format,
    durationMs: summary.durationMs,
  });
  return summary;
}
