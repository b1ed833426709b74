import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';

/**
 * A file path as a pattern shared by every package: the home directory becomes `~`, the
 * package's own name and version become `<pkg>` and `<version>`, random parts of temp names
 * (`/tmp/tmpab12cd34`, `pip-build-xyz`) and long hex runs become `<rand>`, so that the same
 * behaviour counts once across packages and versions.
 */
export function pathPattern(path: string, pkg: { name: string; version: string | null }): string {
  let out = path;
  if (out === SANDBOX_LAYOUT.home || out.startsWith(`${SANDBOX_LAYOUT.home}/`)) {
    out = `~${out.slice(SANDBOX_LAYOUT.home.length)}`;
  }
  // A one- or two-character version ("1") would match digits anywhere.
  if (pkg.version && pkg.version.length >= 3) out = _replaceAll(out, pkg.version, '<version>');
  for (const variant of nameVariants(pkg.name)) out = _replaceAllInsensitive(out, variant, '<pkg>');
  return out
    .replace(/\/tmp\/(tmp|pip-[a-z-]+-?)[a-z0-9_]{6,}/gi, (_m, prefix: string) => `/tmp/${prefix}<rand>`)
    .replace(/[0-9a-f]{12,}/gi, '<rand>');
}

/** Spellings of a distribution name in paths: as given, with dashes, underscores or dots. */
export function nameVariants(name: string): string[] {
  const lower = name.toLowerCase();
  const parts = lower.split(/[-_.]+/).filter(Boolean);
  const variants = new Set([lower, parts.join('-'), parts.join('_'), parts.join('.'), parts.join('')]);
  // Longest first: "ph_demo_pure" must be replaced before a shorter variant could cut it.
  return [...variants].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
}

function _replaceAll(text: string, needle: string, by: string): string {
  return text.split(needle).join(by);
}

function _replaceAllInsensitive(text: string, needle: string, by: string): string {
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(escaped, 'gi'), by);
}
