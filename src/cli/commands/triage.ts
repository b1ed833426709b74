import type { Command } from 'commander';
import { exportAllowlistCandidates } from '../../app/triage-export.ts';
import { loadConfig } from '../../config.ts';
import { toPkghuntError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';
import { printError, writeFileAtomic } from '../output.ts';

interface ExportFlags {
  db?: string;
  out?: string;
  allowlist?: string;
}

async function runExportAllowlist(flags: ExportFlags): Promise<number> {
  try {
    const result = await exportAllowlistCandidates({
      db: flags.db,
      config: loadConfig(),
      allowlistPath: flags.allowlist,
    });
    const text = `${JSON.stringify(result.file, null, 2)}\n`;
    if (flags.out !== undefined) await writeFileAtomic(flags.out, text);
    else process.stdout.write(text);
    process.stderr.write(
      `${result.decisions} false-positive decisions: ${result.file.commands.length} command and ${result.file.paths.length} path candidates` +
        `${flags.out ? ` written to ${flags.out}` : ''}; review, generalise and merge them into data/allowlist.json.\n`,
    );
    for (const s of result.skipped) {
      process.stderr.write(`  skipped (decision #${s.decision}) ${s.pointer}: ${s.reason}\n`);
    }
    return EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json: false });
  }
}

export function registerTriage(program: Command, setExit: (code: number) => void): void {
  const triage = program.command('triage').description("The dashboard's triage decisions");
  triage
    .command('export-allowlist')
    .description('Allowlist candidates (data/allowlist.json format) from false-positive decisions, to review')
    .option('--db <file|url>', 'SQLite store or postgres:// URL (default PKGHUNT_DB or <cache>/pkghunt.db)')
    .option('--out <file>', 'write the candidates to FILE instead of stdout')
    .option('--allowlist <file>', 'the allowlist already in force (entries it allows are skipped)')
    .addHelpText('after', '\nExit codes: 0 exported (possibly empty), 1 failure, 2 bad usage.')
    .action(async (flags: ExportFlags) => {
      setExit(await runExportAllowlist(flags));
    });
}
