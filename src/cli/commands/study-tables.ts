import { type QueryRow, type ResultStore, STUDY_QUERIES } from '../../adapters/store/store.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { renderTable } from '../render-table.ts';

/** The study's aggregate tables (every view), from either engine: one ecosystem's, or all (absent). */
export async function studyTables(
  store: ResultStore,
  options: { ecosystem?: Ecosystem } = {},
): Promise<Record<string, QueryRow[]>> {
  const tables: Record<string, QueryRow[]> = {};
  for (const name of STUDY_QUERIES) tables[name] = await store.query(name, options);
  return tables;
}

const TITLES: Record<string, string> = {
  connected: 'Packages that connected out during install',
  hosts: 'Destinations contacted (any phase), by number of packages',
  dns: 'DNS names looked up, by number of packages',
  commands: "Commands executed beyond the build's own",
  outcomes: 'Outcomes of the analyses',
  suspicious: 'Packages judged suspicious or malicious, highest score first',
};

export function renderStudyTables(tables: Record<string, QueryRow[]>): string {
  return Object.entries(tables)
    .map(([name, rows]) => renderTable(rows, { title: `\n${TITLES[name] ?? name} (pkghunt query ${name}):` }))
    .join('');
}
