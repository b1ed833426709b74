import { normalizeName } from './normalize-name.ts';

export type DistKind = 'sdist' | 'wheel';
export interface DistFilename {
  kind: DistKind;
  name: string;
  version: string;
}

const SDIST_SUFFIXES = ['.tar.gz', '.tgz', '.zip', '.tar.bz2', '.tar.xz', '.tar'];

/**
 * Name and version from a distribution filename. Sdist names may hold `-` themselves, so when the
 * project is known the split that matches it wins; otherwise the last `-` separates the version.
 * Returns null for formats pip would not pick (eggs, exe installers) or unparsable names.
 */
export function parseDistFilename(filename: string, project?: string): DistFilename | null {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-');
    const [name, version] = parts;
    if ((parts.length !== 5 && parts.length !== 6) || !name || !version) return null;
    return { kind: 'wheel', name, version };
  }
  const suffix = SDIST_SUFFIXES.find((s) => lower.endsWith(s));
  if (suffix === undefined) return null;
  const stem = filename.slice(0, -suffix.length);
  if (project !== undefined) {
    const wanted = normalizeName(project);
    for (let i = stem.indexOf('-'); i !== -1; i = stem.indexOf('-', i + 1)) {
      if (normalizeName(stem.slice(0, i)) === wanted && i + 1 < stem.length) {
        return { kind: 'sdist', name: stem.slice(0, i), version: stem.slice(i + 1) };
      }
    }
  }
  const dash = stem.lastIndexOf('-');
  if (dash <= 0 || dash === stem.length - 1) return null;
  return { kind: 'sdist', name: stem.slice(0, dash), version: stem.slice(dash + 1) };
}
