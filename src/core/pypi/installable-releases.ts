import { compare, explain } from '@renovatebot/pep440';
import { toPkghuntError } from '../errors.ts';
import { parseDistFilename } from './dist-filename.ts';
import { latestRelease } from './latest-release.ts';
import type { ProjectFile, ProjectPage } from './project-page.ts';

export interface InstallableRelease {
  version: string;
  files: ProjectFile[];
  /** Earliest upload time of its files, when the index says (PEP 700). */
  uploadTime: string | null;
  latest: boolean;
}

export type ReleasePlan =
  | { kind: 'releases'; releases: InstallableRelease[] }
  | { kind: 'none'; reason: string };

function earliest(files: readonly ProjectFile[]): string | null {
  const times = files.map((f) => f.uploadTime).filter((t): t is string => typeof t === 'string');
  return times.length === 0 ? null : (times.sort()[0] ?? null);
}

/**
 * The releases of a project a hunt would analyse, newest version first: the latest one pip
 * would pick, and with `allVersions` every other final release with a file that is not yanked.
 * A project with none says why, so it is recorded rather than dropped.
 */
export function installableReleases(page: ProjectPage, options: { allVersions?: boolean } = {}): ReleasePlan {
  if (page.files.length === 0) return { kind: 'none', reason: 'the project lists no files' };
  let latestVersion: string;
  try {
    latestVersion = latestRelease(page).version;
  } catch (error) {
    return { kind: 'none', reason: toPkghuntError(error).message };
  }
  const groups = new Map<string, ProjectFile[]>();
  for (const file of page.files) {
    if (file.yanked !== false) continue;
    const dist = parseDistFilename(file.filename, page.name);
    if (dist === null) continue;
    const key = explain(dist.version)?.public ?? dist.version;
    const group = groups.get(key) ?? [];
    group.push(file);
    groups.set(key, group);
  }
  const releases: InstallableRelease[] = [];
  for (const [version, files] of groups) {
    const parsed = explain(version);
    const isLatest = parsed !== null && explain(latestVersion)?.public === parsed.public;
    if (
      !isLatest &&
      (!options.allVersions || parsed === null || parsed.is_prerelease || parsed.is_devrelease)
    )
      continue;
    releases.push({
      version: isLatest ? latestVersion : version,
      files,
      uploadTime: earliest(files),
      latest: isLatest,
    });
  }
  releases.sort((a, b) => compare(b.version, a.version));
  return { kind: 'releases', releases };
}
