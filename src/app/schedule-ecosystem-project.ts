import type { ResultStore } from '../adapters/store/store.ts';
import type { Ecosystem } from '../core/ecosystem.ts';
import { scheduleNpmProject } from './schedule-npm-project.ts';
import { type ScheduleOptions, type ScheduleResult, scheduleProject } from './schedule-project.ts';

/**
 * Reads a project's releases from its ecosystem's index and stores them: PyPI's simple index
 * (scheduleProject) or an npm registry (scheduleNpmProject; `indexUrl` is then the registry URL or
 * directory, and `target`, the sandbox's Python, does not apply).
 */
export async function scheduleEcosystemProject(
  store: ResultStore,
  project: string,
  options: ScheduleOptions & { ecosystem: Ecosystem; indexUrl: string },
): Promise<ScheduleResult> {
  if (options.ecosystem === 'npm') {
    return scheduleNpmProject(store, project, {
      registry: options.indexUrl,
      ...(options.allVersions ? { allVersions: true } : {}),
      ...(options.since !== undefined ? { since: options.since } : {}),
    });
  }
  return scheduleProject(store, project, options);
}
