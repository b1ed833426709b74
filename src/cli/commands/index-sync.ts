import type { Command } from 'commander';
import { resolveIndexUrl } from '../../adapters/registry/index-url.ts';
import { syncIndex } from '../../app/sync-index.ts';
import { loadConfig } from '../../config.ts';
import { toPkghuntError } from '../../core/errors.ts';
import { silentReporter } from '../../reporter/reporter.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { openStore } from '../../app/open-store.ts';

interface SyncFlags {
  indexUrl?: string;
  db?: string;
  json?: boolean;
}

async function runSync(flags: SyncFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const config = loadConfig();
    const indexUrl = await resolveIndexUrl({
      ...(flags.indexUrl !== undefined ? { cliValue: flags.indexUrl } : {}),
      env: process.env,
    });
    const { store, location } = await openStore(flags.db, config);
    try {
      const summary = await syncIndex(store, indexUrl, {
        reporter: silentReporter,
      });
      if (json) process.stdout.write(`${JSON.stringify({ ...summary, indexUrl, db: location })}\n`);
      else
        process.stdout.write(
          `${summary.projects} projects listed (${summary.added} new, ${summary.format} form) in ${(summary.durationMs / 1000).toFixed(1)} s into ${location}\n`,
        );
    } finally {
      await store.close();
    }
    return EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerIndex(program: Command, setExit: (code: number) => void): void {
  const index = program.command('index').description("Keep the local list of the index's projects");
  index
    .command('sync')
    .description('List every project of the index (simple API, JSON form when offered) into the store')
    .option('--index-url <url>', "package index; default: pip's configured index")
    .option('--db <file>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db)')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText('after', '\nExit codes: 0 synced, 1 failure, 2 bad usage.')
    .action(async (flags: SyncFlags) => {
      setExit(await runSync(flags));
    });
}
