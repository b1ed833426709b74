import { parseDistFilename } from '../pypi/dist-filename.ts';
import { normalizeName } from '../pypi/normalize-name.ts';
import type { Dependency } from '../record/schema.ts';

export interface ListDependenciesInput {
  /** Name of the package under analysis. */
  target: string;
  /** The venv's distributions after the install (the package and its run-time dependency closure). */
  installed: readonly { name: string; version: string }[];
  /** Filenames of the distribution files pip fetched through the index proxy. */
  fetched: readonly string[];
}

/**
 * What pip installed besides the package (`dependency`: it is in the venv) and what it fetched
 * only to build something (`build_dependency`: fetched, not in the venv, e.g. setuptools).
 */
export function listDependencies(input: ListDependenciesInput): Dependency[] {
  const target = normalizeName(input.target);
  const installed = input.installed.map((d) => ({ name: normalizeName(d.name), version: d.version }));
  const files = input.fetched
    .map((filename) => _parse(filename, installed))
    .filter((f): f is NonNullable<typeof f> => f !== null);
  const out: Dependency[] = [];
  const seen = new Set<string>();
  const add = (dep: Dependency): void => {
    const key = `${dep.name}\0${dep.version ?? ''}\0${dep.kind}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(dep);
  };
  for (const dep of installed) {
    if (dep.name === target) continue;
    const file = files.find((f) => f.name === dep.name && f.version === dep.version);
    add({ name: dep.name, version: dep.version, kind: 'dependency', artifact: file?.kind ?? null });
  }
  for (const file of files) {
    if (file.name === target || installed.some((d) => d.name === file.name)) continue;
    add({ name: file.name, version: file.version, kind: 'build_dependency', artifact: file.kind });
  }
  return out.sort((a, b) =>
    a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dependency' ? -1 : 1,
  );
}

function _parse(
  filename: string,
  installed: readonly { name: string }[],
): { name: string; version: string; kind: 'sdist' | 'wheel' } | null {
  // Sdist names may hold dashes: an installed name that fits the filename settles the split.
  for (const d of installed) {
    const hinted = parseDistFilename(filename, d.name);
    if (hinted && normalizeName(hinted.name) === d.name) {
      return { name: d.name, version: hinted.version, kind: hinted.kind };
    }
  }
  const parsed = parseDistFilename(filename);
  return parsed ? { name: normalizeName(parsed.name), version: parsed.version, kind: parsed.kind } : null;
}
