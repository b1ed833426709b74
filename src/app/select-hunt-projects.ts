import type { ProjectSelection, ResultStore } from '../adapters/store/store.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import type { Reporter } from '../reporter/reporter.ts';
import { syncIndex } from './sync-index.ts';

/**
 * The projects a hunt (or the PostgreSQL coordinator) selects. npm names given with `--from` are
 * put in the store as they are (npm has no complete list to sync them from; a name the registry
 * does not have ends recorded with its reason); a store with no project of the ecosystem is
 * synced first (PyPI: the index's whole list; npm: what the registry lists, see syncIndex).
 */
export async function selectHuntProjects(
  store: ResultStore,
  options: { indexUrl: string; ecosystem?: Ecosystem; search?: string; selection: ProjectSelection },
  reporter: Reporter,
): Promise<string[]> {
  const ecosystem = options.ecosystem ?? 'pypi';
  const names = options.selection.names;
  if (ecosystem === 'npm' && names !== undefined && names.length > 0) {
    await store.upsertProjects(
      names.map((name) => ({ ecosystem, name, normalized: name, lastSerial: null })),
    );
  }
  if ((await store.countProjects({ ecosystem })) === 0) {
    await syncIndex(store, options.indexUrl, {
      reporter,
      ecosystem,
      ...(options.search !== undefined ? { search: options.search } : {}),
    });
  }
  return store.selectProjects({ ...options.selection, ecosystem });
}
