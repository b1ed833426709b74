import type { FeedPosition } from './feed-position.ts';

/** How far before the newest version seen a version may still turn up late (a mirror catching up). */
export const PACKUMENT_LOOKBACK_MS = 7 * 24 * 3600_000;
/** Bound on the versions a position remembers (a week of releases of the busiest package). */
const MAX_KEYS = 5000;

export interface PackumentVersion {
  version: string;
  /** ISO-8601 UTC from the document's `time`, or null. */
  published: string | null;
}

export interface PackumentPollPlan {
  /** Versions to analyse, oldest first. */
  fresh: PackumentVersion[];
  next: FeedPosition;
}

function cutoff(newest: string | null, lookbackMs: number): string | null {
  if (newest === null) return null;
  return new Date(Date.parse(newest) - lookbackMs).toISOString();
}

/**
 * One watched npm package, polled by its package document (`time` holds every version's
 * publication time). `position` null means the package was never polled: its current `latest`
 * is the only version queued (a baseline, not its whole history) and the rest is remembered as
 * seen. After that, every version not seen before is fresh, pre-releases included, unless it was
 * published more than `lookbackMs` before the newest version seen (older ones are history, not
 * news; within that window a version that shows up late is still caught). `versions` null: the
 * registry has no such package (yet); a package that appears later has every version fresh.
 */
export function planPackumentPoll(
  position: FeedPosition | null,
  versions: readonly PackumentVersion[] | null,
  options: { latest: string | null; lookbackMs?: number },
): PackumentPollPlan {
  const lookbackMs = options.lookbackMs ?? PACKUMENT_LOOKBACK_MS;
  const listed = versions ?? [];
  const base: FeedPosition = position ?? { newestPublished: null, recentKeys: [], serial: null };
  let fresh: PackumentVersion[];
  if (position === null) {
    const latest = listed.find((v) => v.version === options.latest);
    fresh = latest === undefined ? [] : [latest];
  } else {
    const seen = new Set(base.recentKeys);
    const from = cutoff(base.newestPublished, lookbackMs);
    fresh = listed.filter(
      (v) => !seen.has(v.version) && (v.published === null || from === null || v.published > from),
    );
  }
  const published = listed.map((v) => v.published).filter((p): p is string => p !== null);
  const newest =
    [...published, ...(base.newestPublished === null ? [] : [base.newestPublished])].sort().at(-1) ?? null;
  const keep = cutoff(newest, lookbackMs);
  const recent = listed
    .filter((v) => v.published === null || keep === null || v.published > keep)
    .map((v) => v.version);
  const carried = base.recentKeys.filter((k) => !recent.includes(k) && !listed.some((v) => v.version === k));
  return {
    fresh: [...fresh].sort((a, b) =>
      a.published === b.published
        ? 0
        : a.published === null
          ? 1
          : b.published === null
            ? -1
            : a.published < b.published
              ? -1
              : 1,
    ),
    next: {
      newestPublished: newest,
      recentKeys: [...recent, ...carried].slice(0, MAX_KEYS),
      serial: null,
    },
  };
}
