import { stat } from 'node:fs/promises';
import type { BigQuery } from '@google-cloud/bigquery';
import { z } from 'zod';
import { buildDownloadsQuery, renderDownloadsQuery } from '../../core/downloads/bigquery-query.ts';
import { PkghuntError } from '../../core/errors.ts';
import type { DownloadsProvider } from './provider.ts';

export interface BigQueryOptions {
  /** The Google Cloud project billed for the query (the data set itself is public). */
  project: string;
  /** A service-account key file (JSON); the client reads it itself. */
  keyFile: string;
  /** Where the public data set lives. */
  location?: string;
}

const ResultRows = z
  .array(
    z.object({
      downloads: z.coerce.number().int().nonnegative(),
      first_day: z.string().nullable(),
      last_day: z.string().nullable(),
    }),
  )
  .length(1);

/** Checks the key file exists before the client tries (its own error is much less clear). */
export async function checkKeyFile(path: string, source: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) {
    throw new PkghuntError(
      'DOWNLOADS_NOT_CONFIGURED',
      `Cannot use the key file ${path} from ${source}: no such file`,
      {
        hint: 'Point GOOGLE_APPLICATION_CREDENTIALS (or --gcp-key-file) at a service-account key (JSON).',
      },
    );
  }
}

export function createBigQueryProvider(options: BigQueryOptions): DownloadsProvider {
  let client: BigQuery | null = null;
  return {
    name: 'bigquery',
    describe(name, { days }) {
      return renderDownloadsQuery(buildDownloadsQuery(name, { days }));
    },
    async count(name, { days }) {
      const query = buildDownloadsQuery(name, { days });
      let rows: unknown;
      try {
        // Loaded on use: the client library is large and most commands never need it.
        if (client === null) {
          const { BigQuery: Client } = await import('@google-cloud/bigquery');
          client = new Client({ projectId: options.project, keyFilename: options.keyFile });
        }
        [rows] = await client.query({
          query: query.sql,
          params: query.params,
          types: query.types,
          location: options.location ?? 'US',
          useLegacySql: false,
        });
      } catch (cause) {
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new PkghuntError('DOWNLOADS_UNAVAILABLE', `Cannot run the BigQuery download query: ${why}`, {
          hint: 'Check the key file, that the billing project has the BigQuery API enabled, and the network.',
          cause,
        });
      }
      const parsed = ResultRows.safeParse(rows);
      if (!parsed.success) {
        throw new PkghuntError(
          'DOWNLOADS_BAD_RESPONSE',
          `Cannot read the BigQuery result: ${parsed.error.issues[0]?.message}`,
        );
      }
      const [row] = parsed.data;
      return {
        package: query.params.project,
        days,
        count: row?.downloads ?? 0,
        provider: 'bigquery',
        from: row?.first_day ?? null,
        to: row?.last_day ?? null,
        covered_days: null,
        note: 'rows of the public download-statistics data set (every file download, mirrors included)',
      };
    },
  };
}
