import { setTimeout as sleep } from 'node:timers/promises';
import { PkghuntError } from '../../core/errors.ts';
import { type ChangelogEvent, parseChangelog, parseLastSerial } from '../../core/feed/changelog.ts';
import { type ParsedFeed, parseRssFeed } from '../../core/feed/parse-rss.ts';
import { parseXmlRpcResponse, xmlRpcCall } from '../../core/feed/xmlrpc.ts';
import { parseRetryAfter } from '../registry/fetch-with-retry.ts';

export interface FeedHttpOptions {
  /** Extra attempts after the first, on 429, 5xx and network errors. */
  retries?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const USER_AGENT = 'pkghunt-watch (+dynamic analysis of new releases)';
/** A feed or changelog answer larger than this is not one. */
const MAX_BYTES = 64 * 1024 * 1024;

function unavailable(url: string, why: string, cause?: unknown): PkghuntError {
  return new PkghuntError('FEED_UNAVAILABLE', `Cannot fetch ${url}: ${why}`, {
    hint: 'Check the feed URLs (--feed-url, --packages-feed-url, --changelog-url) and the network; the watcher retries at the next poll.',
    cause,
  });
}

/** One HTTP exchange with bounded retries (429/5xx/network) and a timeout per attempt; the body as text. */
async function request(
  url: string,
  init: { method: 'GET' | 'POST'; body?: string; contentType?: string },
  options: FeedHttpOptions,
): Promise<string> {
  const retries = options.retries ?? 2;
  const base = options.baseDelayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, {
        method: init.method,
        headers: {
          'User-Agent': USER_AGENT,
          ...(init.contentType ? { 'Content-Type': init.contentType } : {}),
        },
        ...(init.body !== undefined ? { body: init.body } : {}),
        redirect: 'follow',
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted || attempt >= retries) {
        throw unavailable(
          url,
          timeout.aborted
            ? 'timed out'
            : error instanceof Error
              ? error.cause instanceof Error
                ? error.cause.message
                : error.message
              : String(error),
          error,
        );
      }
      await sleep(base * 2 ** attempt);
      continue;
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      if (attempt >= retries) throw unavailable(url, `the server answered ${response.status}`);
      await sleep(
        Math.min(30_000, parseRetryAfter(response.headers.get('retry-after')) ?? base * 2 ** attempt),
      );
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw unavailable(url, `the server answered ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_BYTES) {
      await response.body?.cancel().catch(() => undefined);
      throw new PkghuntError(
        'FEED_BAD_RESPONSE',
        `Cannot read ${url}: ${length} bytes is too large for a feed`,
      );
    }
    const text = await response.text();
    if (text.length > MAX_BYTES)
      throw new PkghuntError('FEED_BAD_RESPONSE', `Cannot read ${url}: too large for a feed`);
    return text;
  }
}

/** An RSS feed of the index, parsed (core/feed/parse-rss). */
export async function fetchRss(
  url: string,
  kind: 'releases' | 'projects',
  options: FeedHttpOptions = {},
): Promise<ParsedFeed> {
  return parseRssFeed(await request(url, { method: 'GET' }, options), kind, url);
}

async function xmlRpc(url: string, method: string, params: number[], options: FeedHttpOptions) {
  const body = await request(
    url,
    { method: 'POST', body: xmlRpcCall(method, params), contentType: 'text/xml' },
    options,
  );
  return parseXmlRpcResponse(body, url);
}

/** `changelog_last_serial()` of the index's XML-RPC endpoint. */
export async function fetchLastSerial(url: string, options: FeedHttpOptions = {}): Promise<number> {
  return parseLastSerial(await xmlRpc(url, 'changelog_last_serial', [], options), url);
}

/** `changelog_since_serial(serial)`: every event after `serial`, however many releases came. */
export async function fetchChangelogSince(
  url: string,
  serial: number,
  options: FeedHttpOptions = {},
): Promise<ChangelogEvent[]> {
  return parseChangelog(await xmlRpc(url, 'changelog_since_serial', [serial], options), url);
}
