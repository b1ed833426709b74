import { createLimiter } from '../adapters/registry/limiter.ts';
import { readInstallTarget } from '../adapters/sandbox/install-target.ts';
import type { ProjectSelection, ResultStore } from '../adapters/store/store.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { toPkghuntError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import { scheduleEcosystemProject } from './schedule-ecosystem-project.ts';
import { selectHuntProjects } from './select-hunt-projects.ts';

export interface ScheduleSelectionOptions {
  /** The ecosystem's index: PyPI's simple index, or (ecosystem npm) the registry URL or directory. */
  indexUrl: string;
  /** Default pypi. */
  ecosystem?: Ecosystem;
  /** npm over http(s): the search text that lists the packages when the store has none. */
  search?: string;
  selection: ProjectSelection;
  allVersions?: boolean;
  since?: string;
  reporter?: Reporter;
  signal?: AbortSignal;
  /** Concurrent requests to the index. */
  indexConcurrency?: number;
}

/**
 * hunt's selection, for a store whose queue is elsewhere (PostgreSQL): syncs the project list if
 * the store has none, picks the selected projects, reads their releases from the index (stored
 * like SQLite's hunt does) and returns the (project, version) pairs to analyse, in name order.
 * The same steps and options as the SQLite hunt, so both engines analyse the same releases.
 */
export async function scheduleSelection(
  store: ResultStore,
  options: ScheduleSelectionOptions,
): Promise<{ ecosystem: Ecosystem; project: string; version: string }[]> {
  const reporter = options.reporter ?? silentReporter;
  const ecosystem = options.ecosystem ?? 'pypi';
  const names = await selectHuntProjects(store, options, reporter);
  const target = ecosystem === 'pypi' ? await readInstallTarget() : undefined;
  const limit = createLimiter(options.indexConcurrency ?? 4);
  const versions = await Promise.all(
    names.map((project) =>
      limit(async () => {
        if (options.signal?.aborted) return [];
        try {
          const result = await scheduleEcosystemProject(store, project, {
            ecosystem,
            indexUrl: options.indexUrl,
            ...(options.allVersions ? { allVersions: true } : {}),
            ...(options.since !== undefined ? { since: options.since } : {}),
            ...(target !== undefined ? { target } : {}),
          });
          reporter.report({
            type: 'project-scheduled',
            project,
            versions: result.versions,
            noRelease: 'noRelease' in result ? result.noRelease : null,
          });
          return result.versions.map((version) => ({ ecosystem, project, version }));
        } catch (error) {
          const e = toPkghuntError(error);
          reporter.report({ type: 'project-unscheduled', project, code: e.code, reason: e.message });
          return [];
        }
      }),
    ),
  );
  return versions.flat();
}
