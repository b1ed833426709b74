import type { Command } from 'commander';
import type { ResultStore } from '../../adapters/store/store.ts';
import { openResultStore } from '../../app/open-store.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { isNpmSpec, parseNpmPackageSpec } from '../../core/npm/npm-package-spec.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { parsePackageSpec } from '../../core/pypi/package-spec.ts';
import { renderSummary } from '../../core/summary/render-summary.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { ecosystemOption } from './analysis-options.ts';

interface ShowFlags {
  db?: string;
  json?: boolean;
  ecosystem?: Ecosystem;
}

/** What `show` looks up: `npm:NAME[@VERSION]` (or NAME with --ecosystem npm), else a PyPI NAME[==VERSION]. */
function parseShowSpec(
  spec: string,
  ecosystem: Ecosystem | undefined,
): { ecosystem: Ecosystem; name: string; version: string | undefined } {
  if (isNpmSpec(spec) || ecosystem === 'npm') {
    const parsed = parseNpmPackageSpec(isNpmSpec(spec) ? spec : `npm:${spec}`);
    if (parsed.kind === 'local')
      throw new PkghuntError('USAGE', `Cannot show ${spec}: expected npm:NAME or npm:NAME@VERSION`);
    return { ecosystem: 'npm', name: parsed.name, version: parsed.version ?? undefined };
  }
  const parsed = parsePackageSpec(spec);
  if (parsed.kind === 'local')
    throw new PkghuntError('USAGE', `Cannot show ${spec}: expected NAME or NAME==VERSION`);
  return { ecosystem: 'pypi', name: normalizeName(parsed.name), version: parsed.version ?? undefined };
}

async function notFound(store: ResultStore, spec: string, wanted: ReturnType<typeof parseShowSpec>) {
  // A bare NAME means PyPI: say so when only an npm package of that name is stored.
  const other =
    wanted.ecosystem === 'pypi' && !isNpmSpec(spec)
      ? await store
          .getRecord(spec.split('==')[0] ?? spec, wanted.version, { ecosystem: 'npm' })
          .catch(() => null)
      : null;
  return new PkghuntError('PACKAGE_NOT_FOUND', `Cannot show ${spec}: no stored record`, {
    hint:
      other !== null
        ? `An npm package of that name is stored: pkghunt show npm:${spec.replace('==', '@')}`
        : 'Run `pkghunt hunt` for it first, or check --db.',
  });
}

async function runShow(spec: string, flags: ShowFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const wanted = parseShowSpec(spec, flags.ecosystem);
    const { store } = await openResultStore(flags.db, loadConfig());
    try {
      const record = await store.getRecord(wanted.name, wanted.version, { ecosystem: wanted.ecosystem });
      if (record === null) throw await notFound(store, spec, wanted);
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
    .argument('<package>', 'NAME or NAME==VERSION (PyPI), npm:NAME or npm:NAME@VERSION')
    .description('Print the latest stored record of a package (a summary, or the record with --json)')
    .option('--db <file|url>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db) or postgres://...')
    .option('--json', 'print the full behaviour record')
    .addOption(ecosystemOption('pypi or npm: which ecosystem a bare NAME means (default pypi)'))
    .addHelpText('after', '\nExit codes: 0 shown, 1 no such record or failure, 2 bad usage.')
    .action(async (spec: string, flags: ShowFlags) => {
      setExit(await runShow(spec, flags));
    });
}
