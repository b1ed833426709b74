import { z } from 'zod';
import { PkghuntError } from '../errors.ts';
import { normalizeName } from '../pypi/normalize-name.ts';
import { ProjectName, ReleaseVersion } from './feed-item.ts';
import type { XmlRpcValue } from './xmlrpc.ts';

/** One changelog event: [name, version, timestamp, action, serial]. */
export const ChangelogEvent = z.object({
  name: z.string(),
  version: z.string().nullable(),
  /** ISO-8601 UTC. */
  at: z.string(),
  action: z.string(),
  serial: z.number().int().nonnegative(),
});
export type ChangelogEvent = z.infer<typeof ChangelogEvent>;

const Tuple = z.tuple([
  z.string(),
  z.string().nullable(),
  z.number(),
  z.string(),
  z.number().int().nonnegative(),
]);

/** Decodes changelog_since_serial's answer; a tuple of the wrong shape fails the whole answer. */
export function parseChangelog(value: XmlRpcValue, source: string): ChangelogEvent[] {
  if (!Array.isArray(value)) {
    throw new PkghuntError('FEED_BAD_RESPONSE', `Cannot read the changelog of ${source}: not an array`);
  }
  return value.map((entry, i) => {
    const tuple = Tuple.safeParse(entry);
    if (!tuple.success) {
      throw new PkghuntError(
        'FEED_BAD_RESPONSE',
        `Cannot read changelog entry ${i} of ${source}: expected [name, version, timestamp, action, serial]`,
      );
    }
    const [name, version, timestamp, action, serial] = tuple.data;
    return { name, version, at: new Date(timestamp * 1000).toISOString(), action, serial };
  });
}

export function parseLastSerial(value: XmlRpcValue, source: string): number {
  const serial = z.number().int().nonnegative().safeParse(value);
  if (!serial.success) {
    throw new PkghuntError('FEED_BAD_RESPONSE', `Cannot read the last serial of ${source}: not an integer`);
  }
  return serial.data;
}

/**
 * Whether an event means a release is there to install: a new release, or a file added to one
 * (an upload's files may come in events of their own). Removals, yanks, owner changes are not.
 */
export function isReleaseEvent(action: string): boolean {
  return action === 'new release' || /^add (?:[\w.]+ )?file\b/.test(action);
}

/** The releases the events announce, each once (the first event wins), with valid names only. */
export function releasesFromChangelog(
  events: readonly ChangelogEvent[],
): { name: string; version: string; published: string; serial: number }[] {
  const seen = new Set<string>();
  const out: { name: string; version: string; published: string; serial: number }[] = [];
  for (const e of [...events].sort((a, b) => a.serial - b.serial)) {
    if (e.version === null || !isReleaseEvent(e.action)) continue;
    if (!ProjectName.safeParse(e.name).success || !ReleaseVersion.safeParse(e.version).success) continue;
    const name = normalizeName(e.name);
    const key = `${name}==${e.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name, version: e.version, published: e.at, serial: e.serial });
  }
  return out;
}
