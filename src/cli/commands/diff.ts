import type { Command } from 'commander';
import { openPostgresStore } from '../../adapters/store/postgres-store.ts';
import type { TracerChoice } from '../../adapters/tracer/tracer.ts';
import { analyze } from '../../app/analyze.ts';
import { diffVersions, saveThroughQueue } from '../../app/diff-versions.ts';
import { isPostgresUrl, openStore } from '../../app/open-store.ts';
import { loadConfig } from '../../config.ts';
import { recordFacts } from '../../core/behaviour/record-facts.ts';
import { renderDiff } from '../../core/diff/render-diff.ts';
import { toPkghuntError } from '../../core/errors.ts';
import type { BehaviourRecord } from '../../core/record/schema.ts';
import { silentReporter } from '../../reporter/reporter.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { positiveNumber } from '../parse-flags.ts';
import { tracerOption } from './analysis-options.ts';

interface DiffFlags {
  db?: string;
  json?: boolean;
  analyze: boolean;
  indexUrl?: string;
  timeout?: string;
  tracer: TracerChoice;
}

/** PostgreSQL: results analysed for the diff are stored directly (no worker ran them). */
async function _postgres(url: string) {
  const store = await openPostgresStore(url);
  return {
    store,
    save: async (project: string, version: string, record: BehaviourRecord) => {
      await store.storeResult({ name: project, version }, { record, facts: recordFacts(record), traces: [] });
    },
  };
}

async function runDiff(name: string, from: string, to: string, flags: DiffFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const config = loadConfig();
    const timeoutS = positiveNumber(flags.timeout, '--timeout');
    const db = flags.db ?? config.dbPath;
    const opened = isPostgresUrl(db)
      ? await _postgres(db)
      : await openStore(db, config).then(({ store }) => ({
          store,
          save: (project: string, version: string, record: BehaviourRecord) =>
            saveThroughQueue(store, project, version, record),
        }));
    const { store, save } = opened;
    try {
      const result = await diffVersions(
        store,
        { name, from, to },
        {
          save,
          analyze: flags.analyze
            ? (requested) => {
                if (!json) process.stderr.write(`pkghunt: ${requested} is not in the store: analysing it\n`);
                return analyze(requested, {
                  config,
                  reporter: silentReporter,
                  tracer: flags.tracer,
                  ...(flags.indexUrl !== undefined ? { indexUrl: flags.indexUrl } : {}),
                  ...(timeoutS !== undefined ? { timeoutS } : {}),
                });
              }
            : null,
        },
      );
      if (json) process.stdout.write(`${JSON.stringify({ ...result.diff, analysed: result.analysed })}\n`);
      else process.stdout.write(renderDiff(result.diff));
      return EXIT.OK;
    } finally {
      await store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerDiff(program: Command, setExit: (code: number) => void): void {
  program
    .command('diff')
    .argument('<name>', 'project name')
    .argument('<a>', 'the older version')
    .argument('<b>', 'the newer version')
    .description(
      'What version B does that version A did not (and the reverse): hosts, DNS names, commands, file writes',
    )
    .option(
      '--db <file|url>',
      'SQLite store, or a postgres:// URL (default PKGHUNT_DB or <cache>/pkghunt.db)',
    )
    .option('--json', 'print the diff as one JSON object')
    .option('--no-analyze', 'fail instead of analysing a version the store does not have')
    .option('--index-url <url>', "package index for versions to analyse; default: pip's configured index")
    .option('--timeout <seconds>', 'wall-clock limit per phase for versions to analyse (default 300)')
    .addOption(tracerOption('strace'))
    .addHelpText(
      'after',
      `
Versions missing from the store are analysed in the sandbox and stored (unless --no-analyze).
Commands compare by shape (paths, numbers, hex replaced) and paths by pattern (package name,
version, temp names replaced), so a version bump alone shows no change.
Exit codes: 0 diff printed (whatever it shows), 1 failure (e.g. a version not in the store with
--no-analyze: PACKAGE_NOT_FOUND), 2 bad usage.`,
    )
    .action(async (name: string, a: string, b: string, flags: DiffFlags) => {
      setExit(await runDiff(name, a, b, flags));
    });
}
