import { z } from 'zod';
import { PkghuntError } from './errors.ts';
import { isValidNpmName } from './npm/npm-package-spec.ts';
import { isValidProjectName, normalizeName } from './pypi/normalize-name.ts';

/**
 * The package ecosystems pkghunt hunts in. The store keys projects, releases, jobs and results by
 * (ecosystem, name), so an npm package and a PyPI project of the same name never collide.
 */
export const Ecosystem = z.enum(['pypi', 'npm']);
export type Ecosystem = z.infer<typeof Ecosystem>;
export const ECOSYSTEMS = Ecosystem.options;

/** Absent means PyPI: everything stored before the ecosystem dimension existed is PyPI. */
export function ecosystemOf(value: { ecosystem?: Ecosystem | undefined } | undefined): Ecosystem {
  return value?.ecosystem ?? 'pypi';
}

/**
 * The key a project is stored under: PyPI names normalised (PEP 503); npm names as the registry
 * spells them (npm names are case-sensitive and `.`/`_`/`-` differ), validated first since they
 * end up in URLs and npm's argv.
 */
export function projectKey(name: string, ecosystem: Ecosystem): string {
  const trimmed = name.trim();
  if (ecosystem === 'npm') {
    if (!isValidNpmName(trimmed)) {
      throw new PkghuntError(
        'INVALID_PACKAGE_SPEC',
        `Cannot use ${JSON.stringify(name)}: not a valid npm name`,
        {
          hint: 'npm names are like left-pad or @scope/name (no spaces, at most 214 characters).',
        },
      );
    }
    return trimmed;
  }
  if (!isValidProjectName(trimmed)) {
    throw new PkghuntError(
      'INVALID_PACKAGE_SPEC',
      `Cannot use ${JSON.stringify(name)}: not a valid PyPI project name`,
    );
  }
  return normalizeName(trimmed);
}

/** What `analyze` is asked for to analyse one release: `NAME==VERSION` or `npm:NAME@VERSION`. */
export function analysisSpec(ecosystem: Ecosystem, name: string, version: string | null): string {
  if (ecosystem === 'npm') return version === null ? `npm:${name}` : `npm:${name}@${version}`;
  return version === null ? name : `${name}==${version}`;
}
