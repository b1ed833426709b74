import { z } from 'zod';
import { PkghuntError } from '../errors.ts';
import type { PhaseName } from '../record/schema.ts';

/**
 * Known-benign behaviour of the build machinery, kept as reviewed data (data/allowlist.json):
 * what matches is not evidence of anything the package did. Regexes are matched against the
 * executable's base name, the rest of argv joined with spaces, and absolute paths.
 */
export const AllowlistFile = z.object({
  commands: z.array(
    z.object({
      id: z.string(),
      reason: z.string(),
      exe: z.string(),
      args: z.string().optional(),
      phases: z.array(z.enum(['install', 'import'])).optional(),
    }),
  ),
  paths: z.array(z.object({ id: z.string(), reason: z.string(), pattern: z.string() })),
});
export type AllowlistFile = z.infer<typeof AllowlistFile>;

export interface Allowlist {
  /** The id of the entry that allows this command, or null. */
  command(argv: readonly string[], phase: PhaseName): string | null;
  path(path: string): string | null;
}

function compile(pattern: string, where: string): RegExp {
  try {
    // `s`: pip's setup.py shim is a multi-line -c argument.
    return new RegExp(pattern, 's');
  } catch (cause) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot compile the allowlist regex ${where}: ${pattern}`, {
      hint: 'Fix data/allowlist.json (JavaScript regex syntax).',
      cause,
    });
  }
}

export function parseAllowlist(raw: unknown): Allowlist {
  const parsed = AllowlistFile.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot read the allowlist: ${parsed.error.message}`, {
      hint: 'Fix data/allowlist.json against the schema in src/core/detect/allowlist.ts.',
    });
  }
  const commands = parsed.data.commands.map((c) => ({
    id: c.id,
    exe: compile(c.exe, `${c.id}.exe`),
    args: c.args === undefined ? null : compile(c.args, `${c.id}.args`),
    phases: c.phases ?? null,
  }));
  const paths = parsed.data.paths.map((p) => ({ id: p.id, pattern: compile(p.pattern, p.id) }));
  return {
    command(argv, phase) {
      const [exe = '', ...rest] = argv;
      const base = exe.split('/').pop() ?? exe;
      const line = rest.join(' ');
      for (const c of commands) {
        if (c.phases !== null && !c.phases.includes(phase)) continue;
        if (c.exe.test(base) && (c.args === null || c.args.test(line))) return c.id;
      }
      return null;
    },
    path(path) {
      return paths.find((p) => p.pattern.test(path))?.id ?? null;
    },
  };
}

/** An allowlist that allows nothing (tests, or callers that want every behaviour). */
export const EMPTY_ALLOWLIST: Allowlist = parseAllowlist({ commands: [], paths: [] });
