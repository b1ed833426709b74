import { listProjects } from '../adapters/registry/list-projects.ts';
import type { ResultStore } from '../adapters/store/store.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';

export interface SyncSummary {
  projects: number;
  added: number;
  format: string;
  durationMs: number;
}

/**
 * Stores every project the index lists (name and normalised name), streaming the list into
 * batched transactions: memory stays bounded by one batch, whatever the size of the index.
 */
export async function syncIndex(
  store: ResultStore,
  indexUrl: string,
  options: { reporter?: Reporter; batchSize?: number } = {},
): Promise<SyncSummary> {
  const reporter = options.reporter ?? silentReporter;
  const started = Date.now();
  let added = 0;
  let seen = 0;
  const listed = await listProjects(indexUrl, {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    async onBatch(batch) {
      added += await store.upsertProjects(batch);
      seen += batch.length;
      reporter.report({ type: 'sync-progress', projects: seen });
    },
  });
  const summary = { projects: listed.count, added, format: listed.format, durationMs: Date.now() - started };
  reporter.report({ type: 'sync-end', ...summary });
  return summary;
}
