import { z } from 'zod';
import { normalizeName } from '../pypi/normalize-name.ts';

/** data/popular-pypi.json: a download-ranked snapshot of the index's most used projects. */
export const PopularListFile = z.object({
  description: z.string().optional(),
  date: z.string(),
  source: z.object({
    repository: z.string(),
    file: z.string(),
    commit: z.string().optional(),
    last_update: z.string(),
    window_days: z.number().int().positive(),
  }),
  count: z.number().int().nonnegative(),
  rows: z.array(z.object({ project: z.string().min(1), download_count: z.number().int().nonnegative() })),
});
export type PopularListFile = z.infer<typeof PopularListFile>;

/** The first `top` projects of the list, normalised, in download order, without duplicates. */
export function popularProjectNames(list: PopularListFile, options: { top?: number } = {}): string[] {
  const seen = new Set<string>();
  for (const row of list.rows) {
    if (options.top !== undefined && seen.size >= options.top) break;
    seen.add(normalizeName(row.project));
  }
  return [...seen];
}
