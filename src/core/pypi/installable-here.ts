import { satisfies, validRange } from '@renovatebot/pep440';
import { parseDistFilename } from './dist-filename.ts';
import type { ProjectFile } from './project-page.ts';

/** Where the sandbox installs: its Python and platform (read once by an adapter). */
export interface InstallTarget {
  /** The sandbox interpreter's version, e.g. `3.11.7`. */
  python: string;
  /** `x86_64` or `aarch64`. */
  arch: string;
  /** glibc version `[major, minor]`, or null (musl or unknown: only `any` and `linux_*` wheels). */
  glibc: readonly [number, number] | null;
}

/** The manylinux names before PEP 600 and the glibc they stand for. */
const LEGACY_MANYLINUX: Readonly<Record<string, readonly [number, number]>> = {
  manylinux1: [2, 5],
  manylinux2010: [2, 12],
  manylinux2014: [2, 17],
};

/**
 * Does the file's Requires-Python admit the target's Python? A missing one does; so does one
 * that does not parse (pip warns and ignores it rather than refusing the file).
 */
export function admitsPython(requiresPython: string | null, python: string): boolean {
  if (requiresPython === null || requiresPython.trim() === '') return true;
  const spec = requiresPython.trim();
  if (!validRange(spec)) return true;
  return satisfies(python, spec);
}

function _minor(python: string): number {
  return Number(python.split('.')[1] ?? 0);
}

/** One interpreter tag (`py3`, `py311`, `cp39`) with an ABI tag: usable by CPython 3.minor? */
function _interpreterFits(interpreter: string, abi: string, minor: number): boolean {
  const m = /^(py|cp)(\d)(\d*)$/.exec(interpreter);
  if (m?.[2] !== '3') return false;
  const tagMinor = m[3] === '' ? null : Number(m[3]);
  if (m[1] === 'py') return abi === 'none' && (tagMinor === null || tagMinor <= minor);
  if (tagMinor === null) return false;
  if (abi === 'abi3') return tagMinor <= minor;
  if (abi === 'none' || abi === `cp3${minor}`) return tagMinor === minor;
  return false;
}

function _platformFits(platform: string, target: InstallTarget): boolean {
  if (platform === 'any') return true;
  if (platform === `linux_${target.arch}`) return true;
  if (target.glibc === null) return false;
  const pep600 = /^manylinux_(\d+)_(\d+)_(.+)$/.exec(platform);
  const legacy = /^(manylinux1|manylinux2010|manylinux2014)_(.+)$/.exec(platform);
  const [major, minor, arch] = pep600
    ? [Number(pep600[1]), Number(pep600[2]), pep600[3]]
    : legacy
      ? [...(LEGACY_MANYLINUX[legacy[1] ?? ''] ?? [99, 0]), legacy[2]]
      : [99, 0, ''];
  if (arch !== target.arch) return false;
  const [hostMajor, hostMinor] = target.glibc;
  return major < hostMajor || (major === hostMajor && minor <= hostMinor);
}

/**
 * Is this wheel installable by the target (CPython 3.x on Linux)? Compressed tag sets
 * (`py2.py3`, `manylinux_2_17_x86_64.manylinux2014_x86_64`) fit when any combination does.
 */
export function wheelFits(filename: string, target: InstallTarget): boolean {
  const parts = filename.replace(/\.whl$/i, '').split('-');
  if (parts.length !== 5 && parts.length !== 6) return false;
  const [pythons = '', abis = '', platforms = ''] = parts.slice(-3);
  const minor = _minor(target.python);
  const interpreterOk = pythons
    .split('.')
    .some((py) => abis.split('.').some((abi) => _interpreterFits(py, abi, minor)));
  return interpreterOk && platforms.split('.').some((p) => _platformFits(p, target));
}

/** A file pip could install here: not yanked, Requires-Python admits the target, an sdist or a fitting wheel. */
export function fileInstallableHere(file: ProjectFile, target: InstallTarget, project?: string): boolean {
  if (file.yanked !== false || !admitsPython(file.requiresPython, target.python)) return false;
  const dist = parseDistFilename(file.filename, project);
  if (dist === null) return false;
  return dist.kind === 'sdist' || wheelFits(file.filename, target);
}

/** Why none of a release's files fits the target, for the record of a project with nothing installable. */
export function whyNotInstallable(files: readonly ProjectFile[], target: InstallTarget): string {
  const live = files.filter((f) => f.yanked === false);
  const python = target.python.split('.').slice(0, 2).join('.');
  const required = live
    .map((f) => f.requiresPython)
    .find((r) => r !== null && !admitsPython(r, target.python));
  if (required) return `requires Python ${required} (the sandbox has ${python})`;
  return `no sdist and no wheel for CPython ${python} on ${target.arch} Linux`;
}
