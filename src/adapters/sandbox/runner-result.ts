import { z } from 'zod';
import { ModuleImport, Survivor } from '../../core/record/schema.ts';

/** What sandbox/runner.py writes to fd 3 at the end of a phase. Parsed here: it comes from inside. */
const Distribution = z.object({ name: z.string(), version: z.string(), top_level: z.array(z.string()) });

/**
 * The install phase's answer to "what will the import phase import" (the package's distribution
 * and its dependencies, deepest first), read from the venv right after pip: handed to the import
 * phase so that it need not read the venv's metadata again.
 */
export const ImportPlan = z.object({
  distribution: Distribution.nullable(),
  dependencies: z.array(Distribution),
});
export type ImportPlan = z.infer<typeof ImportPlan>;

export const RunnerResult = z.object({
  phase: z.enum(['install', 'import']),
  exit_code: z.number().int().nullable(),
  timed_out: z.boolean(),
  survivors: z.array(Survivor),
  modules: z.array(ModuleImport),
  distribution: Distribution.nullable(),
  /** Install phase: every distribution in the venv afterwards (the package and its dependency closure). */
  installed: z.array(z.object({ name: z.string(), version: z.string() })).default([]),
  error: z.string().nullable(),
  /**
   * Profiling only: `started`/`ended` (epoch seconds) and each step's ms (`venv`, `pip`, ...).
   * Never enters the record; absent from older runners.
   */
  timings: z.record(z.string(), z.number()).optional(),
  /** Install phase: see ImportPlan (parsed apart: a plan that does not parse is only not used). */
  import_plan: z.unknown().optional(),
  /** Install phase of a two-phase launch (`--then-import`): whether the import phase follows in it. */
  then_import: z.boolean().optional(),
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
