import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PkghuntError } from './core/errors.ts';

/**
 * Configuration and environment are read here and nowhere else. Every setting has a documented
 * default (README.md, "Configuration"); environment variables override them; CLI options
 * override those.
 */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const EnvSchema = z.object({
  PKGHUNT_CACHE_DIR: z.string().min(1).optional(),
  PKGHUNT_STATE_DIR: z.string().min(1).optional(),
  PKGHUNT_DB: z.string().min(1).optional(),
  PKGHUNT_UID_BASE: z.coerce.number().int().min(1000).optional(),
  PKGHUNT_TIMEOUT: z.coerce.number().positive().optional(),
  PKGHUNT_MEMORY_MB: z.coerce.number().int().positive().optional(),
  PKGHUNT_PIDS: z.coerce.number().int().positive().optional(),
  PKGHUNT_DISK_MB: z.coerce.number().int().positive().optional(),
  PKGHUNT_OUTPUT_KB: z.coerce.number().int().positive().optional(),
  PIP_INDEX_URL: z.string().optional(),
});

export const ConfigSchema = z.object({
  /** Shared cache: downloaded artifacts (content-addressed) and the demo index. */
  cacheDir: z.string(),
  /** Runtime state: sockets, uid locks, per-run directories (on tmpfs). */
  stateDir: z.string(),
  /** The embedded store (SQLite file) of hunts; compressed traces go in a `traces` folder beside it. */
  dbPath: z.string(),
  uidBase: z.number().int(),
  limits: z.object({
    timeout_s: z.number(),
    memory_mb: z.number(),
    pids: z.number().int(),
    disk_mb: z.number(),
    output_kb: z.number(),
  }),
  pipIndexUrl: z.string().nullable(),
});
export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_LIMITS = {
  timeout_s: 300,
  memory_mb: 2048,
  pids: 512,
  disk_mb: 2048,
  output_kb: 16384,
} as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PkghuntError(
      'CONFIG_INVALID',
      `Cannot read environment variable ${issue?.path.join('.')}: ${issue?.message}`,
      {
        hint: 'Fix or unset the variable; README.md lists each one with its default.',
      },
    );
  }
  const e = parsed.data;
  const cacheDir = resolve(e.PKGHUNT_CACHE_DIR ?? join(PROJECT_ROOT, '.cache'));
  return {
    cacheDir,
    dbPath: e.PKGHUNT_DB ?? join(cacheDir, 'pkghunt.db'),
    stateDir: resolve(e.PKGHUNT_STATE_DIR ?? '/run/pkghunt'),
    uidBase: e.PKGHUNT_UID_BASE ?? 200000,
    limits: {
      timeout_s: e.PKGHUNT_TIMEOUT ?? DEFAULT_LIMITS.timeout_s,
      memory_mb: e.PKGHUNT_MEMORY_MB ?? DEFAULT_LIMITS.memory_mb,
      pids: e.PKGHUNT_PIDS ?? DEFAULT_LIMITS.pids,
      disk_mb: e.PKGHUNT_DISK_MB ?? DEFAULT_LIMITS.disk_mb,
      output_kb: e.PKGHUNT_OUTPUT_KB ?? DEFAULT_LIMITS.output_kb,
    },
    pipIndexUrl: e.PIP_INDEX_URL && e.PIP_INDEX_URL.length > 0 ? e.PIP_INDEX_URL : null,
  };
}
