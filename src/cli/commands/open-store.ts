import { dirname, join, resolve } from 'node:path';
import { openSqliteStore } from '../../adapters/store/sqlite-store.ts';
import type { Store } from '../../adapters/store/store.ts';
import type { Config } from '../../config.ts';
import { PkghuntError } from '../../core/errors.ts';

export interface OpenedStore {
  store: Store;
  /** Where compressed raw traces go, content-addressed. */
  traceDir: string;
  location: string;
}

/** The store named by --db (or PKGHUNT_DB, or the default file), migrated and ready. */
export async function openStore(dbFlag: string | undefined, config: Config): Promise<OpenedStore> {
  const db = dbFlag ?? config.dbPath;
  if (/^postgres(ql)?:\/\//.test(db)) {
    throw new PkghuntError('USAGE', 'Cannot use a PostgreSQL --db with this command', {
      hint: 'Use `pkghunt worker --db postgres://...` for the PostgreSQL store, or a file path for SQLite.',
    });
  }
  const path = resolve(db);
  const store = openSqliteStore(path);
  await store.migrate();
  return { store, traceDir: join(dirname(path), 'traces'), location: path };
}
