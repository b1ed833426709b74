import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { openResultStore } from '../../app/open-store.ts';
import { loadConfig } from '../../config.ts';
import type { Ecosystem } from '../../core/ecosystem.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { EXIT } from '../exit-codes.ts';
import { printError, writeFileAtomic } from '../output.ts';
import { isoDate } from '../parse-flags.ts';
import { ecosystemOption } from './analysis-options.ts';

interface ExportFlags {
  ecosystem?: Ecosystem;
  db?: string;
  format: 'jsonl' | 'json-dir';
  since?: string;
  out?: string;
  json?: boolean;
}

/**
 * A file name from a package name and version: nothing the package controls can leave the folder.
 * npm records are prefixed `npm_` (and keep their name's case) so that a PyPI project of the same
 * name has its own file.
 */
function recordFileName(name: string, version: string | null, ecosystem: Ecosystem): string {
  const safe = (text: string): string => text.replace(/[^A-Za-z0-9._+!-]/g, '_').replace(/^\.+/, '_');
  const base = ecosystem === 'npm' ? `npm_${safe(name)}` : safe(normalizeName(name));
  return `${base}${version ? `==${safe(version)}` : ''}.json`;
}

async function runExport(flags: ExportFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const since = isoDate(flags.since, '--since');
    if (flags.format === 'json-dir' && flags.out === undefined) {
      throw new PkghuntError('USAGE', 'Cannot export --format json-dir without --out DIR');
    }
    const { store } = await openResultStore(flags.db, loadConfig());
    let count = 0;
    try {
      const records = store.exportRecords({
        ...(since !== undefined ? { since } : {}),
        ...(flags.ecosystem !== undefined ? { ecosystem: flags.ecosystem } : {}),
      });
      if (flags.format === 'json-dir') {
        const dir = flags.out ?? '.';
        await mkdir(dir, { recursive: true });
        for await (const record of records) {
          await writeFileAtomic(
            join(dir, recordFileName(record.package.name, record.package.version, record.package.ecosystem)),
            `${JSON.stringify(record, null, 2)}\n`,
          );
          count++;
        }
      } else {
        const temp = flags.out !== undefined ? `${flags.out}.${process.pid}.tmp` : null;
        const file = temp !== null ? createWriteStream(temp) : null;
        const out: NodeJS.WritableStream = file ?? process.stdout;
        for await (const record of records) {
          if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
          count++;
        }
        if (file !== null && temp !== null && flags.out !== undefined) {
          file.end();
          await once(file, 'close');
          await rename(temp, flags.out);
        }
      }
    } finally {
      await store.close();
    }
    if (flags.out !== undefined || flags.format === 'json-dir') {
      const text = json
        ? JSON.stringify({ records: count, out: flags.out ?? null })
        : `${count} records exported to ${flags.out}`;
      process.stderr.write(`${text}\n`);
    }
    return EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerExport(program: Command, setExit: (code: number) => void): void {
  program
    .command('export')
    .description("Write the stored records: JSON Lines, or one JSON file per package (the study's format)")
    .addOption(
      new Option('--format <format>', 'jsonl or json-dir').choices(['jsonl', 'json-dir']).default('jsonl'),
    )
    .option('--since <date>', 'only records stored since DATE')
    .addOption(ecosystemOption('only records of this ecosystem (pypi or npm); default: every ecosystem'))
    .option('--out <path>', 'file (jsonl; default stdout) or folder (json-dir)')
    .option('--db <file|url>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db) or postgres://...')
    .option('--json', 'errors and the final count as JSON')
    .addHelpText('after', '\nExit codes: 0 exported, 1 failure, 2 bad usage.')
    .action(async (flags: ExportFlags) => {
      setExit(await runExport(flags));
    });
}
