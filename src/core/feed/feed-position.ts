import { z } from 'zod';
import { type FeedItem, releaseKey } from './feed-item.ts';

/** How many recent keys a position remembers: far more than a feed's window. */
const RECENT_KEYS = 1000;

/** Where the watcher stands in one feed, stored so that a restart neither loses nor repeats. */
export const FeedPosition = z.object({
  /** Newest publication time seen in this feed (ISO), null before the first item. */
  newestPublished: z.string().nullable(),
  /** Keys of the items seen last (newest first), to recognise the overlap of the next window. */
  recentKeys: z.array(z.string()),
  /** The changelog's serial (changelog position only). */
  serial: z.number().int().nonnegative().nullable(),
});
export type FeedPosition = z.infer<typeof FeedPosition>;

export const EMPTY_POSITION: FeedPosition = { newestPublished: null, recentKeys: [], serial: null };

/** Items the watcher stopped seeing between two polls: from `after` (last seen) to `before` (oldest in the window). */
export interface FeedGap {
  after: string | null;
  before: string | null;
}

export interface FeedPollPlan {
  /** Items not seen before, oldest first. */
  fresh: FeedItem[];
  /** The window no longer reaches what was seen last: releases in between were missed. */
  gap: FeedGap | null;
  next: FeedPosition;
}

/**
 * Compares a feed's current window (oldest first) with the stored position. The window overlaps
 * when it still holds an item seen before, or one published no later than the newest seen; when
 * it does not (and something was seen before), more releases came between two polls than the
 * window holds: a gap, which the caller fills from the changelog or the project pages.
 * Items out of order or repeated are fine: anything not among the recent keys is fresh once.
 */
export function planFeedPoll(position: FeedPosition, items: readonly FeedItem[]): FeedPollPlan {
  const recent = new Set(position.recentKeys);
  const fresh = items.filter((item) => !recent.has(releaseKey(item)));
  const first = position.recentKeys.length === 0 && position.newestPublished === null;
  const newest = position.newestPublished;
  const overlaps =
    items.length === 0 ||
    items.some((item) => recent.has(releaseKey(item))) ||
    (newest !== null && items.some((item) => item.published !== null && item.published <= newest));
  const gap: FeedGap | null =
    first || overlaps
      ? null
      : { after: newest, before: items.find((i) => i.published !== null)?.published ?? null };
  const keys = [...fresh].reverse().map(releaseKey);
  const published = items.map((i) => i.published).filter((p): p is string => p !== null);
  const candidates = newest === null ? published : [...published, newest];
  return {
    fresh,
    gap,
    next: {
      newestPublished: [...candidates].sort().at(-1) ?? null,
      recentKeys: [...keys, ...position.recentKeys.filter((k) => !keys.includes(k))].slice(0, RECENT_KEYS),
      serial: position.serial,
    },
  };
}
