import { z } from 'zod';
import { ModuleImport, Survivor } from '../../core/record/schema.ts';

/** What sandbox/runner.py writes to fd 3 at the end of a phase. Parsed here: it comes from inside. */
export const RunnerResult = z.object({
  phase: z.enum(['install', 'import']),
  exit_code: z.number().int().nullable(),
  timed_out: z.boolean(),
  survivors: z.array(Survivor),
  modules: z.array(ModuleImport),
  distribution: z
    .object({ name: z.string(), version: z.string(), top_level: z.array(z.string()) })
    .nullable(),
  /** Install phase: every distribution in the venv afterwards (the package and its dependency closure). */
  installed: z.array(z.object({ name: z.string(), version: z.string() })).default([]),
  error: z.string().nullable(),
});
export type RunnerResult = z.infer<typeof RunnerResult>;

export function parseRunnerResult(
  raw: Buffer | null,
): { ok: true; value: RunnerResult } | { ok: false; reason: string } {
  if (raw === null || raw.length === 0) return { ok: false, reason: 'the in-sandbox runner wrote no result' };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `Cannot parse the runner result as JSON: ${(error as Error).message}` };
  }
  const parsed = RunnerResult.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `Cannot read the runner result at ${issue?.path.join('.')}: ${issue?.message}`,
    };
  }
  return { ok: true, value: parsed.data };
}
