/**
 * Whether an archive member (or a link target) stays inside the extraction root. Backslashes count
 * as separators too: the archive may be unpacked on a system that reads them so.
 */
function segmentsOf(path: string): string[] {
  return path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
}

function isAbsolute(path: string): boolean {
  return /^[\\/]/.test(path) || /^[A-Za-z]:/.test(path);
}

/** Depth reached walking `segments` from `start`; negative means it climbed out. */
function escapes(start: readonly string[], segments: readonly string[]): boolean {
  const stack = [...start];
  for (const segment of segments) {
    if (segment === '..') {
      if (stack.length === 0) return true;
      stack.pop();
    } else stack.push(segment);
  }
  return false;
}

export type MemberProblem = 'absolute path' | 'parent segment' | 'link escapes';

/**
 * Why a member is unsafe, or null. `link` is the target of a symlink (relative to the member's
 * folder) or of a hard link (relative to the archive root).
 */
export function memberPathProblem(
  path: string,
  link?: { kind: 'symlink' | 'hardlink'; target: string },
): MemberProblem | null {
  if (isAbsolute(path)) return 'absolute path';
  const segments = segmentsOf(path);
  if (segments.includes('..')) return 'parent segment';
  if (link === undefined) return null;
  if (isAbsolute(link.target)) return 'link escapes';
  const start = link.kind === 'symlink' ? segments.slice(0, -1) : [];
  return escapes(start, segmentsOf(link.target)) ? 'link escapes' : null;
}
