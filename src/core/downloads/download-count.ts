import { z } from 'zod';

export const ProviderName = z.enum(['bigquery', 'stats-api']);
export type ProviderName = z.infer<typeof ProviderName>;

/** How many downloads a project had over a period, and where the number comes from. */
export const DownloadCount = z.object({
  /** Normalised project name. */
  package: z.string(),
  /** The period asked for, in days up to today. */
  days: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  provider: ProviderName,
  /** First and last day counted (YYYY-MM-DD), when the provider says. */
  from: z.string().nullable(),
  to: z.string().nullable(),
  /** Days the provider had data for, when fewer than asked (the stats API keeps about 180). */
  covered_days: z.number().int().nonnegative().nullable(),
  /** What the count includes, in words (e.g. "downloads without mirrors"). */
  note: z.string(),
});
export type DownloadCount = z.infer<typeof DownloadCount>;

/** The longest period a query may ask for. */
export const MAX_DAYS = 3650;
