import type { Command } from 'commander';
import { Argument, Option } from 'commander';
import { STUDY_QUERIES, type StudyQuery } from '../../adapters/store/store.ts';
import { openResultStore } from '../../app/open-store.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { toPkghuntError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { ecosystemOption } from './analysis-options.ts';
import { renderStudyTables } from './study-tables.ts';

interface QueryFlags {
  db?: string;
  json?: boolean;
  ecosystem?: Ecosystem;
}

async function runQuery(name: StudyQuery, flags: QueryFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const { store } = await openResultStore(flags.db, loadConfig());
    try {
      const rows = await store.query(
        name,
        flags.ecosystem !== undefined ? { ecosystem: flags.ecosystem } : {},
      );
      process.stdout.write(json ? `${JSON.stringify(rows)}\n` : renderStudyTables({ [name]: rows }));
      return EXIT.OK;
    } finally {
      await store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerQuery(program: Command, setExit: (code: number) => void): void {
  program
    .command('query')
    .addArgument(
      new Argument('<view>', 'connected | hosts | dns | commands | outcomes | suspicious').choices(
        STUDY_QUERIES,
      ),
    )
    .description("Answer one of the study's questions from the store (the SQL views in docs/ARCHITECTURE.md)")
    .option('--db <file|url>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db) or postgres://...')
    .addOption(new Option('--json', 'print the rows as a JSON array'))
    .addOption(ecosystemOption('only this ecosystem (pypi or npm); default: every ecosystem, counts summed'))
    .addHelpText(
      'after',
      `
Views: connected (packages that connected out during install, and where), hosts (destinations by
number of packages), dns (names looked up by number of packages), commands (commands beyond the
build's own), outcomes (how the analyses ended), suspicious (packages
the detection rules judged suspicious or malicious, highest score first). Lists of packages have
an ecosystem column; counts are summed over ecosystems unless --ecosystem picks one.
Exit codes: 0 answered, 1 failure, 2 bad usage.`,
    )
    .action(async (view: StudyQuery, flags: QueryFlags) => {
      setExit(await runQuery(view, flags));
    });
}
