import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PkghuntError } from './core/errors.ts';

/**
 * Configuration and environment are read here and nowhere else. Every setting has a documented
 * default (README.md, "Configuration"); environment variables override them; CLI options
 * override those.
 */

/** What tells pkghunt's package.json from another one above the checkout. */
const PackageJsonSchema = z.object({ name: z.string() });
/** The checkout (data/, sandbox/, src/): every file pkghunt ships is found from here. */
export const PROJECT_ROOT = _findProjectRoot(dirname(fileURLToPath(import.meta.url)));

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
  // downloads and report-draft (empty means unset)
  PKGHUNT_GCP_PROJECT: z.string().optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  PKGHUNT_STATS_URL: z.string().optional(),
  PKGHUNT_SECURITY_CONTACT: z.string().optional(),
  // serve: the Bearer token of triage actions (unset or empty: read-only dashboard)
  PKGHUNT_SERVE_TOKEN: z.string().optional(),
  // watch: alert webhooks (whitespace- or comma-separated URLs) and the dashboard's base URL
  PKGHUNT_WEBHOOKS: z.string().optional(),
  PKGHUNT_SLACK_WEBHOOKS: z.string().optional(),
  PKGHUNT_DASHBOARD_URL: z.string().optional(),
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
  /** `downloads`: billing project and key file for the BigQuery data set, base URL of a stats JSON API. */
  downloads: z.object({
    gcpProject: z.string().nullable(),
    gcpKeyFile: z.string().nullable(),
    statsUrl: z.string().nullable(),
  }),
  /** `report-draft`: the index's security contact address. */
  securityContact: z.string().nullable(),
  /** `serve`: the Bearer token triage decisions need; null: triage disabled. */
  serveToken: z.string().nullable(),
  /** `watch`: webhooks for alerts (generic JSON and Slack) and the dashboard URL alerts link to. */
  watch: z.object({
    webhooks: z.array(z.string()),
    slackWebhooks: z.array(z.string()),
    dashboardUrl: z.string().nullable(),
  }),
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
    downloads: {
      gcpProject: _nonEmpty(e.PKGHUNT_GCP_PROJECT),
      gcpKeyFile: _nonEmpty(e.GOOGLE_APPLICATION_CREDENTIALS),
      statsUrl: _nonEmpty(e.PKGHUNT_STATS_URL),
    },
    securityContact: _nonEmpty(e.PKGHUNT_SECURITY_CONTACT),
    serveToken: _nonEmpty(e.PKGHUNT_SERVE_TOKEN),
    watch: {
      webhooks: _list(e.PKGHUNT_WEBHOOKS),
      slackWebhooks: _list(e.PKGHUNT_SLACK_WEBHOOKS),
      dashboardUrl: _nonEmpty(e.PKGHUNT_DASHBOARD_URL),
    },
  };
}

/**
 * The checkout holding data/, sandbox/ and src/: the nearest directory above `start` whose
 * package.json is pkghunt's. Under tsx `start` is src/; in the bundle bin/pkghunt runs it is a
 * build folder under .cache/cli/, so a fixed `..` would be wrong there.
 */
function _findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (_isPkghuntPackage(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) break;
  }
  throw new PkghuntError('CONFIG_INVALID', `Cannot find pkghunt's package.json in ${start} or above`, {
    hint: 'Run pkghunt from its checkout (bin/pkghunt), which holds package.json, data/ and sandbox/.',
  });
}

function _isPkghuntPackage(path: string): boolean {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return false; // missing or not JSON: not the root, keep walking up
  }
  return PackageJsonSchema.safeParse(raw).data?.name === 'pkghunt';
}

function _nonEmpty(value: string | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}

function _list(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}
