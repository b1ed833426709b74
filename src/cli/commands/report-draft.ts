import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { openResultStore } from '../../app/open-store.ts';
import type { RecordSource } from '../../app/record-source.ts';
import { draftReport } from '../../app/report-draft.ts';
import { loadConfig } from '../../config.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';
import { printError, writeFileAtomic } from '../output.ts';
import { positiveInteger } from '../parse-flags.ts';

interface ReportDraftFlags {
  db?: string;
  record?: string;
  to?: string;
  id?: string;
  credit?: string;
  indexUrl?: string;
  out?: string;
  json?: boolean;
  withDownloads?: boolean;
  days: string;
}

async function runReportDraft(spec: string | undefined, flags: ReportDraftFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const config = loadConfig();
    const days = positiveInteger(flags.days, '--days') ?? 30;
    let opened: { store: RecordSource & { close(): Promise<void> } } | null = null;
    if (flags.record === undefined) opened = await openResultStore(flags.db, config);
    try {
      const draft = await draftReport(spec, {
        config,
        ...(opened ? { store: opened.store } : {}),
        ...(flags.record === undefined ? {} : { recordFile: flags.record }),
        to: flags.to,
        id: flags.id,
        credit: flags.credit,
        indexUrl: flags.indexUrl,
        ...(flags.withDownloads ? { withDownloads: { days } } : {}),
      });
      for (const warning of draft.warnings) process.stderr.write(`pkghunt: warning: ${warning}\n`);
      const osvText = `${JSON.stringify(draft.osv, null, 2)}\n`;
      let files: string[] = [];
      if (flags.out !== undefined) {
        const dir = resolve(flags.out);
        await mkdir(dir, { recursive: true }).catch((cause: unknown) => {
          throw new PkghuntError('USAGE', `Cannot create --out ${flags.out}: ${String(cause)}`, { cause });
        });
        files = [join(dir, 'report.txt'), join(dir, `${draft.osv.id}.json`)];
        await writeFileAtomic(files[0] ?? '', draft.email);
        await writeFileAtomic(files[1] ?? '', osvText);
      }
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ email: draft.email, osv: draft.osv, warnings: draft.warnings, files })}\n`,
        );
      } else if (files.length > 0) {
        process.stdout.write(`${files.join('\n')}\n`);
      } else {
        process.stdout.write(`${draft.email}\n----- OSV record (${draft.osv.id}.json) -----\n${osvText}`);
      }
      return EXIT.OK;
    } finally {
      await opened?.store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerReportDraft(program: Command, setExit: (code: number) => void): void {
  program
    .command('report-draft')
    .argument('[package]', 'NAME or NAME==VERSION (the latest stored record); optional with --record')
    .description(
      "Draft a malware report of an analysed release: an email to the index's security contact and an OSV record",
    )
    .option('--db <file|url>', 'SQLite store (default PKGHUNT_DB or <cache>/pkghunt.db) or postgres://...')
    .option('--record <file>', 'read the behaviour record from this file instead of the store')
    .option('--to <address>', "the index's security contact (PKGHUNT_SECURITY_CONTACT)")
    .option('--id <id>', 'the OSV id (default the placeholder MAL-0000-pkghunt-NAME-VERSION)')
    .option('--credit <name>', 'who found it, in the OSV credits and the signature', 'pkghunt')
    .option('--index-url <url>', 'the index, for the project page reference (default as for analyze)')
    .option('--with-downloads', 'add the download count of the configured provider (see `downloads`)')
    .option('--days <n>', 'the period of --with-downloads', '30')
    .option('--out <dir>', 'write report.txt and <id>.json into DIR')
    .option('--json', 'print { email, osv, warnings, files } as one JSON object')
    .addHelpText(
      'after',
      '\nExit codes: 0 drafted (a clean or missing verdict only warns on stderr), 1 no such record or failure,\n2 bad usage.',
    )
    .action(async (spec: string | undefined, flags: ReportDraftFlags) => {
      setExit(await runReportDraft(spec, flags));
    });
}
