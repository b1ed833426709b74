import type { Command } from 'commander';
import { countDownloads, describeDownloadsQuery, type ProviderChoice } from '../../app/downloads.ts';
import { loadConfig } from '../../config.ts';
import type { DownloadCount } from '../../core/downloads/download-count.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';
import { positiveInteger } from '../parse-flags.ts';

interface DownloadsFlags {
  days: string;
  provider: string;
  gcpProject?: string;
  gcpKeyFile?: string;
  statsUrl?: string;
  showQuery?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

const PROVIDERS: readonly ProviderChoice[] = ['auto', 'bigquery', 'stats-api'];

function _provider(value: string): ProviderChoice {
  const found = PROVIDERS.find((p) => p === value);
  if (found === undefined) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use --provider ${JSON.stringify(value)}: expected ${PROVIDERS.join(', ')}`,
    );
  }
  return found;
}

function _renderCount(result: DownloadCount): string {
  const period = result.from && result.to ? ` (${result.from} to ${result.to})` : '';
  const lines = [`${result.package}: ${result.count} downloads in the last ${result.days} days${period}`];
  lines.push(`  provider: ${result.provider}; ${result.note}`);
  if (result.covered_days !== null) {
    lines.push(`  note: the provider had data for ${result.covered_days} of those ${result.days} days`);
  }
  return `${lines.join('\n')}\n`;
}

async function runDownloads(name: string, flags: DownloadsFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const days = positiveInteger(flags.days, '--days') ?? 30;
    const provider = _provider(flags.provider);
    const config = loadConfig();
    if (flags.dryRun === true) {
      const described = describeDownloadsQuery(name, { days, provider, statsUrl: flags.statsUrl }, config);
      process.stdout.write(
        json ? `${JSON.stringify({ dry_run: true, ...described })}\n` : `${described.query}\n`,
      );
      return EXIT.OK;
    }
    const { result, query } = await countDownloads(
      name,
      {
        days,
        provider,
        gcpProject: flags.gcpProject,
        gcpKeyFile: flags.gcpKeyFile,
        statsUrl: flags.statsUrl,
      },
      config,
    );
    if (json) {
      process.stdout.write(`${JSON.stringify(flags.showQuery ? { ...result, query } : result)}\n`);
    } else {
      if (flags.showQuery) process.stdout.write(`${query}\n\n`);
      process.stdout.write(_renderCount(result));
    }
    return EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerDownloads(program: Command, setExit: (code: number) => void): void {
  program
    .command('downloads')
    .argument('<name>', 'project name')
    .description(
      'How often a project was downloaded (BigQuery public data set or a pypistats-compatible JSON API)',
    )
    .option('--days <n>', 'the period: the last N days', '30')
    .option('--provider <name>', 'bigquery, stats-api or auto (the first configured, BigQuery first)', 'auto')
    .option('--gcp-project <id>', 'Google Cloud project billed for the BigQuery query (PKGHUNT_GCP_PROJECT)')
    .option('--gcp-key-file <file>', 'service-account key file (GOOGLE_APPLICATION_CREDENTIALS)')
    .option('--stats-url <url>', 'base URL of a pypistats-compatible JSON API (PKGHUNT_STATS_URL)')
    .option('--show-query', 'also print the SQL query (with its parameters) or the request URL')
    .option('--dry-run', 'only print the query or request, run nothing (needs no credentials)')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nExit codes: 0 counted (or printed with --dry-run), 1 failure (not configured, provider unreachable,\nunknown project), 2 bad usage.',
    )
    .action(async (name: string, flags: DownloadsFlags) => {
      setExit(await runDownloads(name, flags));
    });
}
