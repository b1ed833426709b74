/**
 * Resolves `path` against `base` the way the kernel would lexically (no symlinks: the trace has no
 * filesystem to look at). Returns null when the path is relative and the base is unknown.
 */
export function resolveTracePath(base: string | null, path: string): string | null {
  if (path.startsWith('/')) return normalizePath(path);
  if (base === null) return null;
  return normalizePath(`${base}/${path}`);
}

export function normalizePath(path: string): string {
  // Fast path, most paths of a trace: already absolute and normal (no empty, `.` or `..` part).
  if (
    path.length > 1 &&
    path.charCodeAt(0) === 0x2f &&
    path.charCodeAt(path.length - 1) !== 0x2f &&
    !path.includes('//') &&
    !path.includes('/.')
  ) {
    return path;
  }
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
