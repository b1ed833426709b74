import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { parsePackageSpec } from '../../core/pypi/package-spec.ts';
import { renderSummary } from '../../core/summary/render-summary.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { openResultStore } from '../../app/open-store.ts';

async function runShow(spec: string, flags: { db?: string; json?: boolean }): Promise<number> {
  const json = flags.json === true;
  try {
    const parsed = parsePackageSpec(spec);
    if (parsed.kind === 'local')
      throw new PkghuntError('USAGE', `Cannot show ${spec}: expected NAME or NAME==VERSION`);
    const { store } = await openResultStore(flags.db, loadConfig());
    try {
      const record = await store.getRecord(normalizeName(parsed.name), parsed.version ?? undefined);
      if (record === null) {
        throw new PkghuntError('PACKAGE_NOT_FOUND', `Cannot show ${spec}: no stored record`, {
          hint: 'Run `pkghunt hunt` for it first, or check --db.',
        });
      }
      process.stdout.write(
        json
          ? `${JSON.stringify(record, null, 2)}\n`
          : renderSummary(record, { color: process.stdout.isTTY === true }),
      );
      return EXIT.OK;
    } finally {
      await store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerShow(program: Command, setExit: (code: number) => void): void {
  program
    .command('show')
    .argument('<package>', 'NAME or NAME==VERSION')
    .description('Print the latest stored record of a package (a summary, or the record with --json)')
    .option('--db <file|url>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db) or postgres://...')
    .option('--json', 'print the full behaviour record')
    .addHelpText('after', '\nExit codes: 0 shown, 1 no such record or failure, 2 bad usage.')
    .action(async (spec: string, flags: { db?: string; json?: boolean }) => {
      setExit(await runShow(spec, flags));
    });
}
