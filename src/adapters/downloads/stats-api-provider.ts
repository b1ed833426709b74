import type { z } from 'zod';
import {
  countFromOverall,
  countFromRecent,
  OverallResponse,
  RecentResponse,
  statsEndpoint,
} from '../../core/downloads/stats-api.ts';
import { PkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { fetchWithRetry } from '../registry/fetch-with-retry.ts';
import type { DownloadsProvider } from './provider.ts';

export interface StatsApiOptions {
  /** Base URL of a pypistats-compatible JSON API (the part before `/api/packages/...`). */
  baseUrl: string;
  /** Extra attempts after a 429, a 5xx or a transient network error. */
  retries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Time allowed until the response headers arrive, per attempt. */
  timeoutMs?: number;
}

/** Validates the configured base URL: http(s) only, always ending in '/'. */
export function parseStatsBaseUrl(value: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot use stats API URL ${JSON.stringify(value)} from ${source}`,
      {
        hint: 'Give an http(s):// URL, the base of a pypistats-compatible JSON API.',
        cause,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot use stats API URL ${value} from ${source}: not http(s)`,
      {
        hint: 'Give an http(s):// URL, the base of a pypistats-compatible JSON API.',
      },
    );
  }
  url.hash = '';
  url.search = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

export function createStatsApiProvider(options: StatsApiOptions): DownloadsProvider {
  const base = parseStatsBaseUrl(options.baseUrl, 'the configuration');
  const urlFor = (name: string, days: number) =>
    new URL(statsEndpoint(normalizeName(name), { days }).path, base).href;
  return {
    name: 'stats-api',
    describe(name, { days }) {
      return `GET ${urlFor(name, days)}`;
    },
    async count(name, { days }) {
      const project = normalizeName(name);
      const endpoint = statsEndpoint(project, { days });
      const url = new URL(endpoint.path, base).href;
      if (endpoint.kind === 'recent') {
        return countFromRecent(project, await _getJson(url, project, RecentResponse, options), { days });
      }
      return countFromOverall(project, await _getJson(url, project, OverallResponse, options), { days });
    },
  };
}

async function _getJson<T>(
  url: string,
  project: string,
  schema: z.ZodType<T>,
  options: StatsApiOptions,
): Promise<T> {
  let response: Response;
  try {
    response = await fetchWithRetry(url, {
      headers: { Accept: 'application/json' },
      retries: options.retries ?? 3,
      baseDelayMs: options.baseDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? 20_000,
      totalTimeoutMs: 5 * 60_000,
    });
  } catch (cause) {
    const why =
      cause instanceof Error ? cause.message.replace(/^Cannot reach the package index at \S+: /, '') : '';
    throw new PkghuntError('DOWNLOADS_UNAVAILABLE', `Cannot reach the stats API at ${url}: ${why}`, {
      hint: 'Check --stats-url / PKGHUNT_STATS_URL and the network, then retry.',
      cause,
    });
  }
  if (response.status === 404) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      'PACKAGE_NOT_FOUND',
      `Cannot count downloads of ${project}: the stats API has no such project`,
      {
        hint: 'Check the name; projects with no downloads yet, or removed long ago, are not listed.',
      },
    );
  }
  const text = await response.text().catch((cause: unknown) => {
    throw new PkghuntError('DOWNLOADS_UNAVAILABLE', `Cannot read the stats API's answer from ${url}`, {
      cause,
    });
  });
  if (!response.ok) {
    throw new PkghuntError(
      'DOWNLOADS_UNAVAILABLE',
      `Cannot count downloads of ${project}: the stats API answered HTTP ${response.status} at ${url}`,
      { hint: 'HTTP 429 means rate limited: wait and retry (retries were already made).' },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new PkghuntError(
      'DOWNLOADS_BAD_RESPONSE',
      `Cannot parse the stats API's answer from ${url}: not JSON`,
      {
        hint: 'Check that --stats-url points at a pypistats-compatible JSON API.',
        cause,
      },
    );
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PkghuntError(
      'DOWNLOADS_BAD_RESPONSE',
      `Cannot read the stats API's answer from ${url}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      { hint: 'Check that --stats-url points at a pypistats-compatible JSON API.' },
    );
  }
  return parsed.data;
}
