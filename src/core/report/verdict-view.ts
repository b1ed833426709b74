import { z } from 'zod';

/**
 * The part of a record's `verdict` (written by src/core/detect) the report shows. Parsed
 * leniently on its own so that a report still works on records from before detection existed.
 */
export const VerdictView = z.object({
  level: z.string(),
  score: z.number(),
  findings: z
    .array(
      z.object({
        rule: z.string(),
        severity: z.string(),
        title: z.string().optional(),
        evidence: z
          .array(z.object({ pointer: z.string().optional(), text: z.string().optional() }))
          .optional(),
      }),
    )
    .default([]),
});
export type VerdictView = z.infer<typeof VerdictView>;

export function verdictOf(record: object): VerdictView | null {
  const raw = 'verdict' in record ? record.verdict : undefined;
  if (raw === undefined || raw === null) return null;
  const parsed = VerdictView.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
