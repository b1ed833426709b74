import { readFile } from 'node:fs/promises';
import { buildDashboardServer, type DashboardServerOptions } from '../adapters/dashboard/server.ts';
import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import { resolveIndexUrl } from '../adapters/registry/index-url.ts';
import type { DashboardStore } from '../adapters/store/dashboard-store.ts';
import type { ResultStore } from '../adapters/store/store.ts';
import { openPostgresDashboardStore } from '../adapters/store/triage-postgres.ts';
import { openSqliteDashboardStore } from '../adapters/store/triage-sqlite.ts';
import type { Config } from '../config.ts';
import { PkghuntError } from '../core/errors.ts';
import { createDownloadsLookup, type DownloadsLookupOptions } from './dashboard-downloads.ts';
import { isPostgresUrl, openResultStore } from './open-store.ts';

export interface DashboardStores {
  results: ResultStore;
  dashboard: DashboardStore;
  location: string;
  close(): Promise<void>;
}

/** The result store (migrated) and the dashboard's reads/decisions over the same database. */
export async function openDashboardStores(db: string | undefined, config: Config): Promise<DashboardStores> {
  const target = db ?? config.dbPath;
  const { store, location } = await openResultStore(target, config);
  let dashboard: DashboardStore;
  try {
    dashboard = isPostgresUrl(target)
      ? await openPostgresDashboardStore(target)
      : openSqliteDashboardStore(location);
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    results: store,
    dashboard,
    location,
    async close() {
      await dashboard.close();
      await store.close();
    },
  };
}

/** The triage token: --token-file (first line) wins over PKGHUNT_SERVE_TOKEN; null disables triage. */
export async function readServeToken(tokenFile: string | undefined, config: Config): Promise<string | null> {
  if (tokenFile === undefined) return config.serveToken;
  let text: string;
  try {
    text = await readFile(tokenFile, 'utf8');
  } catch (cause) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot read the token file ${tokenFile}`, {
      hint: 'Give a readable file whose first line is the token.',
      cause,
    });
  }
  const token = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (token.length < 16) {
    throw new PkghuntError('CONFIG_INVALID', `The token in ${tokenFile} is shorter than 16 characters`, {
      hint: 'Use a long random token, e.g. openssl rand -hex 32 > FILE.',
    });
  }
  return token;
}

export interface ServeOptions {
  db?: string | undefined;
  config: Config;
  host: string;
  port: number;
  token: string | null;
  pollMs?: number;
  /** For the report draft's project link (default: pip's configured index). */
  indexUrl?: string | undefined;
  /** Download counts on package pages (provider from the configuration; default 30 days, 2 s wait). */
  downloads?: Omit<DownloadsLookupOptions, 'config'>;
}

export interface RunningDashboard {
  url: string;
  location: string;
  triageEnabled: boolean;
  close(): Promise<void>;
}

/** Opens the store and serves the dashboard until `close()`. */
export async function startDashboard(options: ServeOptions): Promise<RunningDashboard> {
  const stores = await openDashboardStores(options.db, options.config);
  let indexUrl: string | null = null;
  try {
    indexUrl = await resolveIndexUrl({
      ...(options.indexUrl === undefined ? {} : { cliValue: options.indexUrl }),
      env: process.env,
    });
  } catch {
    indexUrl = null;
  }
  const serverOptions: DashboardServerOptions = {
    results: stores.results,
    dashboard: stores.dashboard,
    source: stores.location,
    token: options.token,
    draft: { to: options.config.securityContact, indexUrl, allowlist: await loadAllowlist() },
    downloads: createDownloadsLookup({ ...options.downloads, config: options.config }),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
  };
  const app = await buildDashboardServer(serverOptions);
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
  } catch (cause) {
    await app.close();
    await stores.close();
    throw new PkghuntError(
      'SERVE_FAILED',
      `Cannot listen on ${options.host}:${options.port}: ${String(cause)}`,
      {
        hint: 'Choose another --port (0 picks a free one) or check --host.',
        cause,
      },
    );
  }
  return {
    url: address,
    location: stores.location,
    triageEnabled: options.token !== null,
    async close() {
      await app.close();
      await stores.close();
    },
  };
}
