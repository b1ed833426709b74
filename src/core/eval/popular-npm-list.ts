import { z } from 'zod';

/**
 * data/popular-npm.json: the most depended-upon packages of the npm registry, in rank order. The
 * source publishes the order (by dependents count), not the counts, so a row is its rank and name.
 */
export const PopularNpmListFile = z.object({
  description: z.string().optional(),
  date: z.string(),
  source: z.object({
    repository: z.string(),
    file: z.string(),
    commit: z.string(),
    package: z.string().optional(),
    last_update: z.string(),
    ranking: z.string(),
    date_note: z.string().optional(),
  }),
  count: z.number().int().nonnegative(),
  rows: z.array(z.object({ rank: z.number().int().positive(), name: z.string().min(1) })),
});
export type PopularNpmListFile = z.infer<typeof PopularNpmListFile>;

/** The package names of the list in rank order, without duplicates (npm names are already canonical). */
export function popularNpmNames(list: PopularNpmListFile): string[] {
  return [...new Set(list.rows.map((r) => r.name))];
}

/** The file name the runner keeps a package's record under: a scope's slash becomes `__`. */
export function npmRecordFileName(name: string): string {
  return `${name.replaceAll('/', '__')}.json`;
}
