import { z } from 'zod';

/** One distribution file listed on a project's simple-API page; `url` is absolute, without fragment. */
export const ProjectFile = z.object({
  filename: z.string().min(1),
  url: z.string().min(1),
  /** Hash name to hex digest, e.g. { sha256: '...' }. */
  hashes: z.record(z.string(), z.string()),
  requiresPython: z.string().nullable(),
  /** False, or the yank reason (empty string when none was given). */
  yanked: z.union([z.literal(false), z.string()]),
  uploadTime: z.string().optional(),
});
export type ProjectFile = z.infer<typeof ProjectFile>;

export const ProjectPage = z.object({
  name: z.string(),
  files: z.array(ProjectFile),
});
export type ProjectPage = z.infer<typeof ProjectPage>;

/** PEP 691 JSON form of a project page. */
export const SimpleJsonPage = z.object({
  meta: z.object({ 'api-version': z.string() }).loose().optional(),
  name: z.string(),
  files: z.array(
    z
      .object({
        filename: z.string().min(1),
        url: z.string().min(1),
        hashes: z.record(z.string(), z.string()),
        'requires-python': z.string().nullable().optional(),
        yanked: z.union([z.boolean(), z.string()]).optional(),
        'upload-time': z.string().optional(),
      })
      .loose(),
  ),
});
