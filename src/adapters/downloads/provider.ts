import type { DownloadCount, ProviderName } from '../../core/downloads/download-count.ts';

/** A source of download statistics: the BigQuery data set or a stats JSON API. */
export interface DownloadsProvider {
  readonly name: ProviderName;
  /** The query (BigQuery) or request URL (stats API) `count` runs, for --show-query. */
  describe(name: string, options: { days: number }): string;
  count(name: string, options: { days: number; signal?: AbortSignal }): Promise<DownloadCount>;
}
