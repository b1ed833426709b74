import { z } from 'zod';
import { Ecosystem } from '../ecosystem.ts';
import { isValidNpmName } from '../npm/npm-package-spec.ts';
import { normalizeName } from '../pypi/normalize-name.ts';

/** A project name as the index allows it (PEP 508); anything else in a feed is not a package. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9])?$/;
/** A version as it may appear in a URL path: PEP 440 characters, bounded. */
const VERSION = /^[A-Za-z0-9](?:[A-Za-z0-9.+!_-]{0,126}[A-Za-z0-9])?$/;

export const ProjectName = z.string().regex(NAME, 'not a valid project name');
export const ReleaseVersion = z.string().regex(VERSION, 'not a valid version');

/** One entry of a feed of new releases (version set) or new projects (version null). */
export const FeedItem = z.object({
  /** Normalised (PEP 503). */
  name: ProjectName,
  version: ReleaseVersion.nullable(),
  /** ISO-8601 UTC, null when the feed gave none or an unparsable one. */
  published: z.string().nullable(),
  link: z.string().nullable(),
});
export type FeedItem = z.infer<typeof FeedItem>;

/** A (project, version) the watcher found, and where. `ecosystem` absent: PyPI. */
export const SeenRelease = z
  .object({
    name: z.string(),
    version: ReleaseVersion,
    published: z.string().nullable(),
    source: z.enum(['rss', 'changelog', 'project-page', 'new-project', 'npm-packument']),
    ecosystem: Ecosystem.optional(),
  })
  .refine((r) => (r.ecosystem === 'npm' ? isValidNpmName(r.name) : ProjectName.safeParse(r.name).success), {
    message: 'not a valid project name',
    path: ['name'],
  });
export type SeenRelease = z.infer<typeof SeenRelease>;

/** The identity of a release: normalised name and the version as the index spells it. */
export function releaseKey(item: { name: string; version: string | null }): string {
  const name = normalizeName(item.name);
  return item.version === null ? name : `${name}==${item.version}`;
}

/** The identity of a seen release across ecosystems: PyPI's releaseKey, `npm:NAME@VERSION` for npm. */
export function seenKey(item: { name: string; version: string; ecosystem?: Ecosystem | undefined }): string {
  return item.ecosystem === 'npm' ? `npm:${item.name}@${item.version}` : releaseKey(item);
}

/** Sorts by publication time (unknown last, then by key) and keeps the first of each key. */
export function orderAndDedupe<T extends { name: string; version: string | null; published: string | null }>(
  items: readonly T[],
): T[] {
  const sorted = [...items].sort((a, b) => {
    if (a.published !== b.published) {
      if (a.published === null) return 1;
      if (b.published === null) return -1;
      return a.published < b.published ? -1 : 1;
    }
    return releaseKey(a) < releaseKey(b) ? -1 : releaseKey(a) > releaseKey(b) ? 1 : 0;
  });
  const seen = new Set<string>();
  return sorted.filter((item) => {
    const key = releaseKey(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
