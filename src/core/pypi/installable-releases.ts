import { compare, explain } from '@renovatebot/pep440';
import { toPkghuntError } from '../errors.ts';
import { parseDistFilename } from './dist-filename.ts';
import { fileInstallableHere, type InstallTarget, whyNotInstallable } from './installable-here.ts';
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
 * The newest final release with a file installable on `target` (Requires-Python admits its
 * Python; an sdist or a fitting wheel): what pip in the sandbox would pick, not the index's newest.
 */
function latestInstallable(
  page: ProjectPage,
  target: InstallTarget,
): { version: string } | { reason: string } {
  const newest = latestRelease(page);
  const groups = new Map<string, { version: string; files: ProjectFile[] }>();
  for (const file of page.files) {
    const dist = parseDistFilename(file.filename, page.name);
    if (dist === null) continue;
    const parsed = explain(dist.version);
    if (parsed === null || parsed.is_prerelease || parsed.is_devrelease) continue;
    const group = groups.get(parsed.public) ?? { version: dist.version, files: [] };
    group.files.push(file);
    groups.set(parsed.public, group);
  }
  let best: string | null = null;
  for (const group of groups.values()) {
    if (!group.files.some((f) => fileInstallableHere(f, target, page.name))) continue;
    if (best === null || compare(group.version, best) > 0) best = group.version;
  }
  if (best !== null) return { version: best };
  return {
    reason: `no release installable here: the newest, ${newest.version}, ${whyNotInstallable(newest.files, target)}`,
  };
}

/**
 * The releases of a project a hunt would analyse, newest version first: the latest one pip
 * would pick, and with `allVersions` every other final release with a file that is not yanked.
 * With `target`, "latest" is the newest release with a file installable there, and the other
 * releases need one too. A project with none says why, so it is recorded rather than dropped.
 */
export function installableReleases(
  page: ProjectPage,
  options: { allVersions?: boolean; target?: InstallTarget } = {},
): ReleasePlan {
  if (page.files.length === 0) return { kind: 'none', reason: 'the project lists no files' };
  const { target } = options;
  let latestVersion: string;
  try {
    if (target === undefined) latestVersion = latestRelease(page).version;
    else {
      const latest = latestInstallable(page, target);
      if ('reason' in latest) return { kind: 'none', reason: latest.reason };
      latestVersion = latest.version;
    }
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
      (!options.allVersions ||
        parsed === null ||
        parsed.is_prerelease ||
        parsed.is_devrelease ||
        (target !== undefined && !files.some((f) => fileInstallableHere(f, target, page.name))))
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
