import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import { PkghuntError } from '../errors.ts';
import { normalizeName } from '../pypi/normalize-name.ts';
import { FeedItem, orderAndDedupe } from './feed-item.ts';

/** The fields of an RSS 2.0 <item> we read; everything else is ignored. */
const RssItem = z.object({
  title: z.unknown().optional(),
  link: z.unknown().optional(),
  guid: z.unknown().optional(),
  pubDate: z.unknown().optional(),
});
const RssDocument = z.object({
  rss: z.object({
    channel: z.object({ item: z.array(RssItem).optional() }),
  }),
});

export interface ParsedFeed {
  /** Valid items, oldest first, one per release (or project). */
  items: FeedItem[];
  /** Items that named no valid package (kept out, counted so that the caller can say so). */
  invalid: number;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null && '#text' in value) return text(value['#text']);
  return null;
}

function isoDate(value: string | null): string | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** `/project/NAME/` or `/project/NAME/VERSION/` in a link, as the index's feeds write them. */
function fromLink(link: string | null): { name: string; version: string | null } | null {
  if (link === null) return null;
  let path: string;
  try {
    path = new URL(link).pathname;
  } catch {
    return null;
  }
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const at = parts.indexOf('project');
  if (at < 0 || parts[at + 1] === undefined) return null;
  return { name: parts[at + 1] ?? '', version: parts[at + 2] ?? null };
}

/** `NAME VERSION` (updates) or `NAME added to ...` (new projects). */
function fromTitle(
  title: string | null,
  kind: 'releases' | 'projects',
): { name: string; version: string | null } | null {
  if (title === null) return null;
  const words = title.split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  if (kind === 'projects') return { name: words[0] ?? '', version: null };
  if (words.length !== 2) return null;
  return { name: words[0] ?? '', version: words[1] ?? null };
}

/**
 * Parses an RSS 2.0 feed of the index: `releases` (each item one new release, NAME VERSION) or
 * `projects` (each item one new project). Malformed XML is a FEED_BAD_RESPONSE; an item that
 * names no valid package is skipped and counted, never passed on.
 */
export function parseRssFeed(xml: string, kind: 'releases' | 'projects', source = 'the feed'): ParsedFeed {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new PkghuntError(
      'FEED_BAD_RESPONSE',
      `Cannot parse ${source}: malformed XML at line ${valid.err.line}: ${valid.err.msg}`,
      { hint: 'The feed answered something that is not RSS; it is polled again at the next interval.' },
    );
  }
  const parser = new XMLParser({
    ignoreAttributes: true,
    processEntities: true,
    parseTagValue: false,
    isArray: (name) => name === 'item',
  });
  const doc = RssDocument.safeParse(parser.parse(xml));
  if (!doc.success) {
    throw new PkghuntError('FEED_BAD_RESPONSE', `Cannot parse ${source}: not an RSS 2.0 channel`, {
      hint: 'Check --feed-url / --packages-feed-url: they must name the RSS feeds of the index.',
    });
  }
  const items: FeedItem[] = [];
  let invalid = 0;
  for (const raw of doc.data.rss.channel.item ?? []) {
    const link = text(raw.link) ?? text(raw.guid);
    const named = fromLink(link) ?? fromTitle(text(raw.title), kind);
    const version =
      kind === 'projects' ? null : (named?.version ?? fromTitle(text(raw.title), kind)?.version ?? null);
    const parsed = FeedItem.safeParse({
      name: named === null ? '' : named.name,
      version,
      published: isoDate(text(raw.pubDate)),
      link,
    });
    if (!parsed.success || (kind === 'releases' && parsed.data.version === null)) {
      invalid++;
      continue;
    }
    items.push({ ...parsed.data, name: normalizeName(parsed.data.name) });
  }
  return { items: orderAndDedupe(items), invalid };
}
