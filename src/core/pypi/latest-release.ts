import { compare, eq, explain } from '@renovatebot/pep440';
import { PkghuntError } from '../errors.ts';
import { parseDistFilename } from './dist-filename.ts';
import type { ProjectFile, ProjectPage } from './project-page.ts';

export interface Release {
  version: string;
  files: ProjectFile[];
}

function groupByVersion(page: ProjectPage): Map<string, { version: string; files: ProjectFile[] }> {
  const groups = new Map<string, { version: string; files: ProjectFile[] }>();
  for (const file of page.files) {
    const dist = parseDistFilename(file.filename, page.name);
    if (dist === null) continue;
    const key = explain(dist.version)?.public ?? dist.version;
    const group = groups.get(key) ?? { version: dist.version, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return groups;
}

/**
 * The release pip would pick without --pre: the highest PEP 440 version that is not a pre- or
 * dev-release and has a file that is not yanked. With `version`, that exact release (yanked files
 * included, as pip allows for an exact pin).
 */
export function latestRelease(page: ProjectPage, version?: string): Release {
  const groups = groupByVersion(page);
  if (version !== undefined) {
    const wanted = explain(version) ? version : null;
    const group = [...groups.values()].find((g) =>
      wanted !== null && explain(g.version) ? eq(g.version, wanted) : g.version === version,
    );
    if (!group) {
      throw new PkghuntError(
        'PACKAGE_NOT_FOUND',
        `Cannot find version ${version} of ${page.name} on the index`,
        {
          hint: `Known versions: ${
            [...groups.values()]
              .map((g) => g.version)
              .slice(-10)
              .join(', ') || 'none'
          }.`,
        },
      );
    }
    return { version: group.version, files: group.files };
  }
  let best: Release | null = null;
  for (const group of groups.values()) {
    const parsed = explain(group.version);
    if (!parsed || parsed.is_prerelease || parsed.is_devrelease) continue;
    const files = group.files.filter((f) => f.yanked === false);
    if (files.length === 0) continue;
    if (best === null || compare(group.version, best.version) > 0) best = { version: group.version, files };
  }
  if (best === null) {
    throw new PkghuntError('PACKAGE_NOT_FOUND', `Cannot find a final, non-yanked release of ${page.name}`, {
      hint: 'Ask for a pre-release or yanked version explicitly with NAME==VERSION.',
    });
  }
  return best;
}
