import { dirname, join, resolve } from 'node:path';
import { openSqliteStore } from '../adapters/store/sqlite-store.ts';
import type { ResultStore, Store } from '../adapters/store/store.ts';
import type { Config } from '../config.ts';
import { PkghuntError } from '../core/errors.ts';
import { readStoreDecisions, type TriageFed, withTriageFeed } from './triage-feed.ts';

export interface OpenedStore {
  /** Its triage decisions feed the scoring of what it stores (app/triage-feed.ts). */
  store: Store & TriageFed;
  /** Where compressed raw traces go, content-addressed. */
  traceDir: string;
  location: string;
}

export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** The SQLite store named by --db (or PKGHUNT_DB, or the default file), migrated and ready. */
export async function openStore(dbFlag: string | undefined, config: Config): Promise<OpenedStore> {
  const db = dbFlag ?? config.dbPath;
  if (isPostgresUrl(db)) {
    throw new PkghuntError('USAGE', 'Cannot use a PostgreSQL --db with this command', {
      hint: 'This command runs its own job queue, which only the SQLite store has: give a file path.',
    });
  }
  const path = resolve(db);
  const store = openSqliteStore(path);
  await store.migrate();
  return {
    store: withTriageFeed(store, () => readStoreDecisions({ sqlite: path })),
    traceDir: join(dirname(path), 'traces'),
    location: path,
  };
}

/**
 * The results of either engine: a postgres:// URL opens PostgreSQL, anything else the SQLite file.
 * For commands that only read (show, query, export, report).
 */
export async function openResultStore(
  dbFlag: string | undefined,
  config: Config,
): Promise<{ store: ResultStore; location: string }> {
  const db = dbFlag ?? config.dbPath;
  if (isPostgresUrl(db)) {
    // Loaded only for a postgres:// URL: the driver costs every SQLite command its start-up.
    const { openPostgresStore } = await import('../adapters/store/postgres-store.ts');
    return { store: await openPostgresStore(db), location: db.replace(/\/\/[^@/]*@/, '//***@') };
  }
  const { store, location } = await openStore(db, config);
  return { store, location };
}
