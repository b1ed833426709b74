import { z } from 'zod';

/**
 * The committed list of popular projects (data/popular-pypi.json). Accepted shapes: an array of
 * names, an array of `{ name | project, downloads | download_count }`, or an object holding such
 * an array under `packages`, `projects` or `rows`.
 */
const Entry = z.union([z.string(), z.object({ name: z.string() }), z.object({ project: z.string() })]);
export const PopularList = z.union([
  z.array(Entry),
  z.object({ packages: z.array(Entry) }),
  z.object({ projects: z.array(Entry) }),
  z.object({ rows: z.array(Entry) }),
]);
export type PopularList = z.infer<typeof PopularList>;

function _normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The normalised names of a parsed popular list. */
export function popularNames(list: PopularList): Set<string> {
  let entries: z.infer<typeof Entry>[];
  if (Array.isArray(list)) entries = list;
  else if ('packages' in list && Array.isArray(list.packages)) entries = list.packages;
  else if ('projects' in list && Array.isArray(list.projects)) entries = list.projects;
  else entries = 'rows' in list && Array.isArray(list.rows) ? list.rows : [];
  return new Set(
    entries.map((e) => _normalise(typeof e === 'string' ? e : 'name' in e ? e.name : e.project)),
  );
}

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
/** "Long-lived": releases uploaded over at least this many years. */
export const LONG_LIVED_YEARS = 3;

/**
 * Popular: in the committed list, or with an upload history spanning several years (malicious
 * uploads are short-lived: they are taken down within days or weeks).
 */
export function isPopular(
  name: string,
  options: { popularNames: ReadonlySet<string>; uploadTimes: readonly (string | null)[]; minYears?: number },
): boolean {
  if (options.popularNames.has(_normalise(name))) return true;
  const times = options.uploadTimes
    .filter((t): t is string => t !== null)
    .map((t) => Date.parse(t))
    .filter((t) => Number.isFinite(t));
  if (times.length < 2) return false;
  const span = Math.max(...times) - Math.min(...times);
  return span >= (options.minYears ?? LONG_LIVED_YEARS) * YEAR_MS;
}
