import { z } from 'zod';
import type { DownloadCount } from './download-count.ts';

/**
 * A pypistats-compatible JSON API: `<base>/api/packages/<name>/recent` gives the downloads of the
 * last day, week and month; `<base>/api/packages/<name>/overall?mirrors=false` one row per day
 * (the API keeps about 180 days).
 */
export const RecentResponse = z.object({
  data: z.object({
    last_day: z.number().int().nonnegative(),
    last_week: z.number().int().nonnegative(),
    last_month: z.number().int().nonnegative(),
  }),
  package: z.string(),
  type: z.string().optional(),
});
export type RecentResponse = z.infer<typeof RecentResponse>;

export const OverallResponse = z.object({
  data: z.array(
    z.object({
      category: z.string(),
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      downloads: z.number().int().nonnegative(),
    }),
  ),
  package: z.string(),
  type: z.string().optional(),
});
export type OverallResponse = z.infer<typeof OverallResponse>;

/** The periods `recent` answers directly; any other period is summed from `overall`. */
const RECENT_FIELD: Readonly<Record<number, keyof RecentResponse['data']>> = {
  1: 'last_day',
  7: 'last_week',
  30: 'last_month',
};

export type StatsEndpoint = { kind: 'recent'; path: string } | { kind: 'overall'; path: string };

/** Which endpoint answers a period, as a path under the base URL. */
export function statsEndpoint(name: string, options: { days: number }): StatsEndpoint {
  const project = encodeURIComponent(name);
  return RECENT_FIELD[options.days] !== undefined
    ? { kind: 'recent', path: `api/packages/${project}/recent` }
    : { kind: 'overall', path: `api/packages/${project}/overall?mirrors=false` };
}

export function countFromRecent(
  name: string,
  body: RecentResponse,
  options: { days: number },
): DownloadCount {
  const field = RECENT_FIELD[options.days];
  if (field === undefined) throw new RangeError(`No recent field for ${options.days} days`);
  return {
    package: name,
    days: options.days,
    count: body.data[field],
    provider: 'stats-api',
    from: null,
    to: null,
    covered_days: null,
    note: `the API's ${field} (downloads without mirrors)`,
  };
}

/** Sums the last `days` days of the `without_mirrors` rows, counted back from the newest day listed. */
export function countFromOverall(
  name: string,
  body: OverallResponse,
  options: { days: number },
): DownloadCount {
  const rows = body.data.filter((r) => r.category === 'without_mirrors');
  const dates = [...new Set(rows.map((r) => r.date))].sort();
  const last = dates.at(-1);
  if (last === undefined) {
    return {
      package: name,
      days: options.days,
      count: 0,
      provider: 'stats-api',
      from: null,
      to: null,
      covered_days: 0,
      note: 'no daily rows listed (downloads without mirrors)',
    };
  }
  const first = _minusDays(last, options.days - 1);
  const inPeriod = rows.filter((r) => r.date >= first && r.date <= last);
  const covered = new Set(inPeriod.map((r) => r.date)).size;
  const earliest = dates.find((d) => d >= first) ?? last;
  return {
    package: name,
    days: options.days,
    count: inPeriod.reduce((sum, r) => sum + r.downloads, 0),
    provider: 'stats-api',
    from: earliest,
    to: last,
    covered_days: covered < options.days ? covered : null,
    note: 'sum of the daily downloads without mirrors',
  };
}

function _minusDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) - days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}
