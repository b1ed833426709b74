import type { Command } from 'commander';
import { openStore } from '../../app/open-store.ts';
import { syncIndex } from '../../app/sync-index.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { toPkghuntError } from '../../core/errors.ts';
import { silentReporter } from '../../reporter/reporter.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { resolveEcosystemIndex } from '../resolve-ecosystem-index.ts';
import { ecosystemOption, registryOption } from './analysis-options.ts';

interface SyncFlags {
  ecosystem: Ecosystem;
  indexUrl?: string;
  registry?: string;
  search?: string;
  db?: string;
  json?: boolean;
}

async function runSync(flags: SyncFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const config = loadConfig();
    const indexUrl = await resolveEcosystemIndex(flags.ecosystem, flags);
    const { store, location } = await openStore(flags.db, config);
    try {
      const summary = await syncIndex(store, indexUrl, {
        reporter: silentReporter,
        ecosystem: flags.ecosystem,
        ...(flags.search !== undefined ? { search: flags.search } : {}),
      });
      if (json) process.stdout.write(`${JSON.stringify({ ...summary, indexUrl, db: location })}\n`);
      else {
        const matched =
          summary.total !== undefined && summary.total !== null && summary.total > summary.projects
            ? ` (the registry counts ${summary.total} matches; the search pages stop earlier)`
            : '';
        process.stdout.write(
          `${summary.projects} ${flags.ecosystem === 'npm' ? 'npm packages' : 'projects'} listed (${summary.added} new, ${summary.format} form)${matched} in ${(summary.durationMs / 1000).toFixed(1)} s into ${location}\n`,
        );
      }
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
    .description(
      'List every project of the index (simple API, JSON form when offered) into the store; npm: what the registry lists',
    )
    .addOption(ecosystemOption('pypi, or npm (the registry of --registry)', 'pypi'))
    .option('--index-url <url>', "PyPI: package index; default: pip's configured index")
    .addOption(registryOption())
    .option(
      '--search <text>',
      'npm over http(s): list the results of /-/v1/search?text=TEXT (npm registries have no complete list)',
    )
    .option('--db <file>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db)')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      `
npm: a directory registry is listed by its folders; an http(s) registry only through its search
endpoint (--search TEXT; at most 10,000 results, 250 a page), and a registry without one fails
LISTING_UNSUPPORTED: give the names to \`hunt --from FILE\` instead.
Exit codes: 0 synced, 1 failure, 2 bad usage.`,
    )
    .action(async (flags: SyncFlags) => {
      setExit(await runSync(flags));
    });
}
