/**
 * A shell glob (`*`, `?`, `[abc]`, `[!abc]`) on a project's normalised name, as `--match` takes
 * it: the same meaning as SQLite's GLOB, for stores that have no GLOB (PostgreSQL).
 */
export function globMatcher(glob: string): (name: string) => boolean {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        source += '\\[';
        continue;
      }
      const body = glob.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      const set = (negated ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&');
      source += `[${negated ? '^' : ''}${set}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  const pattern = new RegExp(`^${source}$`);
  return (name) => pattern.test(name);
}
