import { fetchProjectMetadata, getProjectPage } from '../adapters/registry/simple-index.ts';
import type { ResultStore } from '../adapters/store/store.ts';
import { toPkghuntError } from '../core/errors.ts';
import type { InstallTarget } from '../core/pypi/installable-here.ts';
import { installableReleases } from '../core/pypi/installable-releases.ts';

export interface ScheduleOptions {
  allVersions?: boolean;
  /** ISO date: only releases uploaded since (releases with no known upload time are left out). */
  since?: string;
  /**
   * The sandbox's Python and platform: the newest release with a file installable there is
   * chosen (not one whose Requires-Python or wheels exclude it). Absent: the index's newest.
   */
  target?: InstallTarget;
}

export type ScheduleResult = { versions: string[] } | { versions: []; noRelease: string };

/**
 * Reads a project's releases from the index (its page, then the JSON metadata of each release
 * chosen), stores them, and returns the versions to analyse. A project with nothing installable
 * is recorded with the reason. Index errors other than "not found" propagate: the caller retries
 * the project on the next run instead of recording a wrong reason.
 */
export async function scheduleProject(
  store: ResultStore,
  project: string,
  options: ScheduleOptions & { indexUrl: string },
): Promise<ScheduleResult> {
  let page: Awaited<ReturnType<typeof getProjectPage>>;
  try {
    page = await getProjectPage(options.indexUrl, project);
  } catch (error) {
    const e = toPkghuntError(error);
    if (e.code !== 'PACKAGE_NOT_FOUND') throw e;
    await store.markNoRelease(project, e.message);
    return { versions: [], noRelease: e.message };
  }
  const plan = installableReleases(page, {
    ...(options.allVersions ? { allVersions: true } : {}),
    ...(options.target ? { target: options.target } : {}),
  });
  if (plan.kind === 'none') {
    await store.markNoRelease(project, plan.reason);
    return { versions: [], noRelease: plan.reason };
  }
  const versions: string[] = [];
  for (const release of plan.releases) {
    const metadata = await fetchProjectMetadata(options.indexUrl, project, release.version).catch(() => null);
    const uploadTime =
      release.uploadTime ??
      metadata?.files
        .map((f) => f.upload_time)
        .filter((t): t is string => t !== null)
        .sort()[0] ??
      null;
    await store.upsertRelease({
      project,
      version: release.version,
      uploadTime,
      files: release.files.map((f) => ({
        filename: f.filename,
        url: f.url,
        sha256: f.hashes.sha256 ?? null,
        uploadTime: f.uploadTime ?? null,
        yanked: f.yanked !== false,
      })),
      metadata,
    });
    if (options.since !== undefined && (uploadTime === null || uploadTime < options.since)) continue;
    versions.push(release.version);
  }
  return { versions };
}
