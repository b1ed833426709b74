import type { DownloadsProvider } from '../adapters/downloads/provider.ts';
import { type Config, loadConfig } from '../config.ts';
import type { DownloadsView } from '../core/dashboard/pages/package-page.ts';
import type { ProviderName } from '../core/downloads/download-count.ts';
import { toPkghuntError } from '../core/errors.ts';
import { isValidProjectName, normalizeName } from '../core/pypi/normalize-name.ts';
import { resolveDownloadsProvider } from './downloads.ts';

export interface DownloadsLookupOptions {
  config?: Config;
  /** The period counted. */
  days?: number;
  /** How long a count is kept. */
  ttlMs?: number;
  /** How long a failure is kept before the provider is asked again. */
  failureTtlMs?: number;
  /** How long a page waits for an answer before it says "unknown" (the lookup goes on). */
  waitMs?: number;
  /** Projects kept at most (the oldest entry goes first). */
  maxEntries?: number;
  /** Stats API tuning: one retry with a short timeout, a page must not wait for minutes. */
  statsRetries?: number;
  statsBaseDelayMs?: number;
  statsTimeoutMs?: number;
  now?: () => number;
}

export type DownloadsLookup = (project: string, ecosystem: 'pypi' | 'npm') => Promise<DownloadsView>;

const NOT_CONFIGURED =
  'no download-statistics provider is configured (set PKGHUNT_STATS_URL, or PKGHUNT_GCP_PROJECT and GOOGLE_APPLICATION_CREDENTIALS)';

/** Where the numbers come from, in words; a stats API by its host only (no credentials, no path). */
function _source(provider: ProviderName, config: Config): string {
  if (provider === 'bigquery') return 'the BigQuery data set bigquery-public-data.pypi.file_downloads';
  try {
    return `the stats API at ${new URL(config.downloads.statsUrl ?? '').host}`;
  } catch {
    return 'the stats API';
  }
}

function _seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * The dashboard's download counts: asked of the configured provider the first time a package
 * page wants one (never at start-up), kept in memory for the server's life with a TTL, failures
 * kept for a shorter while. A page waits at most `waitMs`: then it says "unknown (reason)" and
 * the answer, when it comes, is kept for the next view. Never throws.
 */
export function createDownloadsLookup(options: DownloadsLookupOptions = {}): DownloadsLookup {
  const config = options.config ?? loadConfig();
  const days = options.days ?? 30;
  const ttlMs = options.ttlMs ?? 60 * 60_000;
  const failureTtlMs = options.failureTtlMs ?? 5 * 60_000;
  const waitMs = options.waitMs ?? 2000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { view: DownloadsView; expiresAt: number }>();
  const inFlight = new Map<string, Promise<DownloadsView>>();
  let provider: { value: DownloadsProvider | null; reason: string | null; expiresAt: number } | null = null;

  async function providerOf(): Promise<{ value: DownloadsProvider | null; reason: string | null }> {
    if (provider !== null && provider.expiresAt > now()) return provider;
    try {
      const value = await resolveDownloadsProvider(
        {
          provider: 'auto',
          statsRetries: options.statsRetries ?? 1,
          statsBaseDelayMs: options.statsBaseDelayMs ?? 500,
          statsTimeoutMs: options.statsTimeoutMs ?? 10_000,
        },
        config,
      );
      provider = { value, reason: null, expiresAt: Number.POSITIVE_INFINITY };
    } catch (error) {
      const e = toPkghuntError(error);
      // Not configured stays so for the server's life; a broken configuration is looked at again.
      provider =
        e.code === 'DOWNLOADS_NOT_CONFIGURED'
          ? { value: null, reason: NOT_CONFIGURED, expiresAt: Number.POSITIVE_INFINITY }
          : { value: null, reason: `${e.code}: ${e.message}`, expiresAt: now() + failureTtlMs };
    }
    return provider;
  }

  function remember(project: string, view: DownloadsView, forMs: number): DownloadsView {
    cache.delete(project);
    cache.set(project, { view, expiresAt: now() + forMs });
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return view;
  }

  async function ask(project: string): Promise<DownloadsView> {
    const chosen = await providerOf();
    if (chosen.value === null) {
      return { known: false, days, provider: null, source: null, reason: chosen.reason ?? NOT_CONFIGURED };
    }
    const name = chosen.value.name;
    const source = _source(name, config);
    try {
      const count = await chosen.value.count(project, { days });
      return remember(
        project,
        {
          known: true,
          days: count.days,
          provider: name,
          source,
          count: count.count,
          from: count.from,
          to: count.to,
          coveredDays: count.covered_days,
          note: count.note,
        },
        ttlMs,
      );
    } catch (error) {
      const e = toPkghuntError(error);
      const view: DownloadsView = {
        known: false,
        days,
        provider: name,
        source,
        reason: `${e.code}: ${e.message}`,
      };
      return remember(project, view, failureTtlMs);
    }
  }

  return async (rawName, ecosystem) => {
    if (ecosystem !== 'pypi') {
      return {
        known: false,
        days,
        provider: null,
        source: null,
        reason: 'download statistics are configured for PyPI projects only',
      };
    }
    if (!isValidProjectName(rawName)) {
      return { known: false, days, provider: null, source: null, reason: 'not a project name' };
    }
    const project = normalizeName(rawName);
    const cached = cache.get(project);
    if (cached !== undefined && cached.expiresAt > now()) return cached.view;
    let pending = inFlight.get(project);
    if (pending === undefined) {
      pending = ask(project).finally(() => inFlight.delete(project));
      inFlight.set(project, pending);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DownloadsView>((resolve) => {
      timer = setTimeout(() => {
        const chosen = provider?.value ?? null;
        resolve({
          known: false,
          days,
          provider: chosen?.name ?? null,
          source: chosen ? _source(chosen.name, config) : null,
          reason: `no answer within ${_seconds(waitMs)}; still asking, reload the page later`,
        });
      }, waitMs);
    });
    try {
      return await Promise.race([pending, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
