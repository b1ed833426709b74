import { checkKeyFile, createBigQueryProvider } from '../adapters/downloads/bigquery-provider.ts';
import type { DownloadsProvider } from '../adapters/downloads/provider.ts';
import { createStatsApiProvider } from '../adapters/downloads/stats-api-provider.ts';
import { type Config, loadConfig } from '../config.ts';
import { type DownloadCount, MAX_DAYS, type ProviderName } from '../core/downloads/download-count.ts';
import { PkghuntError } from '../core/errors.ts';
import { isValidProjectName } from '../core/pypi/normalize-name.ts';

export type ProviderChoice = ProviderName | 'auto';

export interface DownloadsSettings {
  provider: ProviderChoice;
  /** Override the configuration (CLI flags); absent or empty: the configuration's value. */
  gcpProject?: string | undefined;
  gcpKeyFile?: string | undefined;
  statsUrl?: string | undefined;
  /** Stats API retry tuning (tests use short delays). */
  statsRetries?: number;
  statsBaseDelayMs?: number;
  /** Stats API: time allowed per attempt until the response headers arrive. */
  statsTimeoutMs?: number;
}

interface Resolved {
  gcpProject: string | null;
  gcpKeyFile: string | null;
  statsUrl: string | null;
}

function _resolve(settings: DownloadsSettings, config: Config): Resolved {
  const pick = (flag: string | undefined, fallback: string | null) =>
    flag !== undefined && flag.trim() !== '' ? flag.trim() : fallback;
  return {
    gcpProject: pick(settings.gcpProject, config.downloads.gcpProject),
    gcpKeyFile: pick(settings.gcpKeyFile, config.downloads.gcpKeyFile),
    statsUrl: pick(settings.statsUrl, config.downloads.statsUrl),
  };
}

const BIGQUERY_NEEDS = {
  gcpProject: 'PKGHUNT_GCP_PROJECT (or --gcp-project): the Google Cloud project billed for the query',
  gcpKeyFile: 'GOOGLE_APPLICATION_CREDENTIALS (or --gcp-key-file): a service-account key file (JSON)',
} as const;
const STATS_NEEDS = 'PKGHUNT_STATS_URL (or --stats-url): the base URL of a pypistats-compatible JSON API';

function _missingBigQuery(resolved: Resolved): string[] {
  const missing: string[] = [];
  if (resolved.gcpProject === null) missing.push(BIGQUERY_NEEDS.gcpProject);
  if (resolved.gcpKeyFile === null) missing.push(BIGQUERY_NEEDS.gcpKeyFile);
  return missing;
}

/**
 * The provider to ask: the one chosen, or with `auto` the first configured of BigQuery then the
 * stats API. Throws DOWNLOADS_NOT_CONFIGURED naming exactly the settings that are missing.
 */
export async function resolveDownloadsProvider(
  settings: DownloadsSettings,
  config: Config = loadConfig(),
): Promise<DownloadsProvider> {
  const resolved = _resolve(settings, config);
  const missingBq = _missingBigQuery(resolved);
  const wantBq = settings.provider === 'bigquery' || (settings.provider === 'auto' && missingBq.length === 0);
  if (wantBq) {
    if (missingBq.length > 0) {
      throw new PkghuntError(
        'DOWNLOADS_NOT_CONFIGURED',
        `Cannot query BigQuery: set ${missingBq.join('; and ')}`,
        {
          hint: 'Or use --provider stats-api with PKGHUNT_STATS_URL; --dry-run --show-query prints the query without credentials.',
        },
      );
    }
    const keyFile = resolved.gcpKeyFile ?? '';
    await checkKeyFile(keyFile, settings.gcpKeyFile ? '--gcp-key-file' : 'GOOGLE_APPLICATION_CREDENTIALS');
    return createBigQueryProvider({ project: resolved.gcpProject ?? '', keyFile });
  }
  if (resolved.statsUrl !== null) {
    return createStatsApiProvider({
      baseUrl: resolved.statsUrl,
      ...(settings.statsRetries === undefined ? {} : { retries: settings.statsRetries }),
      ...(settings.statsBaseDelayMs === undefined ? {} : { baseDelayMs: settings.statsBaseDelayMs }),
      ...(settings.statsTimeoutMs === undefined ? {} : { timeoutMs: settings.statsTimeoutMs }),
    });
  }
  if (settings.provider === 'stats-api') {
    throw new PkghuntError('DOWNLOADS_NOT_CONFIGURED', `Cannot query the stats API: set ${STATS_NEEDS}`, {
      hint: 'Or use --provider bigquery with PKGHUNT_GCP_PROJECT and GOOGLE_APPLICATION_CREDENTIALS.',
    });
  }
  throw new PkghuntError(
    'DOWNLOADS_NOT_CONFIGURED',
    `Cannot count downloads: no provider is configured. For the BigQuery data set set ${missingBq.join('; and ')}. Or for the JSON API set ${STATS_NEEDS}`,
    { hint: '--dry-run --show-query prints the BigQuery query without credentials.' },
  );
}

function _checkInput(name: string, days: number): void {
  if (!isValidProjectName(name)) {
    throw new PkghuntError(
      'INVALID_PACKAGE_SPEC',
      `Cannot count downloads of ${JSON.stringify(name)}: not a project name`,
    );
  }
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new PkghuntError(
      'USAGE',
      `Cannot count downloads over ${days} days: give a whole number from 1 to ${MAX_DAYS}`,
    );
  }
}

/** The query or request a provider would run, without running it (no credentials needed for BigQuery). */
export function describeDownloadsQuery(
  name: string,
  options: { days: number; provider: ProviderChoice; statsUrl?: string | undefined },
  config: Config = loadConfig(),
): { provider: ProviderName; query: string } {
  _checkInput(name, options.days);
  const statsUrl = options.statsUrl?.trim() || config.downloads.statsUrl;
  const bigqueryReady = config.downloads.gcpProject !== null && config.downloads.gcpKeyFile !== null;
  const useStats =
    options.provider === 'stats-api' || (options.provider === 'auto' && !bigqueryReady && statsUrl !== null);
  if (useStats) {
    if (statsUrl === null) {
      throw new PkghuntError(
        'DOWNLOADS_NOT_CONFIGURED',
        `Cannot show the stats API request: set ${STATS_NEEDS}`,
      );
    }
    const provider = createStatsApiProvider({ baseUrl: statsUrl });
    return { provider: 'stats-api', query: provider.describe(name, { days: options.days }) };
  }
  // Describing needs neither the project nor the key: both are only used to run it.
  const provider = createBigQueryProvider({ project: '', keyFile: '' });
  return { provider: 'bigquery', query: provider.describe(name, { days: options.days }) };
}

/** How often `name` was downloaded over the last `days` days, from the provider the settings select. */
export async function countDownloads(
  name: string,
  options: { days: number } & DownloadsSettings,
  config: Config = loadConfig(),
): Promise<{ result: DownloadCount; query: string }> {
  _checkInput(name, options.days);
  const provider = await resolveDownloadsProvider(options, config);
  const query = provider.describe(name, { days: options.days });
  return { result: await provider.count(name, { days: options.days }), query };
}

/**
 * For alerts and the dashboard: the download count from whichever provider is configured, or
 * null when none is (or when the lookup fails: an alert must not fail for want of a number).
 * `onError` hears why a configured provider failed.
 */
export async function downloadCount(
  name: string,
  options: { days: number; config?: Config; onError?: (error: unknown) => void },
): Promise<{ count: number; provider: ProviderName } | null> {
  try {
    const config = options.config ?? loadConfig();
    const { result } = await countDownloads(name, { days: options.days, provider: 'auto' }, config);
    return { count: result.count, provider: result.provider };
  } catch (error) {
    if (!(error instanceof PkghuntError && error.code === 'DOWNLOADS_NOT_CONFIGURED'))
      options.onError?.(error);
    return null;
  }
}
