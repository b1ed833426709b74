import type { Command } from 'commander';
import { readServeToken, startDashboard } from '../../app/serve.ts';
import { loadConfig } from '../../config.ts';
import { MAX_DAYS } from '../../core/downloads/download-count.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { EXIT } from '../exit-codes.ts';
import { printError } from '../output.ts';

interface ServeFlags {
  db?: string;
  host: string;
  port: string;
  tokenFile?: string;
  indexUrl?: string;
  poll: string;
  downloadsDays: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function _port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new PkghuntError('USAGE', `Cannot use --port ${value}: expected 0..65535`);
  }
  return n;
}

async function runServe(flags: ServeFlags): Promise<number> {
  try {
    const config = loadConfig();
    const port = _port(flags.port);
    const pollSeconds = Number(flags.poll);
    if (!(pollSeconds >= 0.2 && pollSeconds <= 60)) {
      throw new PkghuntError('USAGE', `Cannot use --poll ${flags.poll}: expected 0.2..60 seconds`);
    }
    const downloadsDays = Number(flags.downloadsDays);
    if (!Number.isInteger(downloadsDays) || downloadsDays < 1 || downloadsDays > MAX_DAYS) {
      throw new PkghuntError(
        'USAGE',
        `Cannot use --downloads-days ${flags.downloadsDays}: expected 1..${MAX_DAYS}`,
      );
    }
    const token = await readServeToken(flags.tokenFile, config);
    if (!LOOPBACK.has(flags.host)) {
      process.stderr.write(
        `\n  WARNING: serving on ${flags.host}, not loopback: anyone who reaches this address can READ every\n` +
          '  record (payloads, argv, paths, canary hits). Put it behind TLS and access control.\n\n',
      );
    }
    const dashboard = await startDashboard({
      db: flags.db,
      config,
      host: flags.host,
      port,
      token,
      pollMs: Math.round(pollSeconds * 1000),
      indexUrl: flags.indexUrl,
      downloads: { days: downloadsDays },
    });
    process.stderr.write(
      `pkghunt serve: ${dashboard.url} (store ${dashboard.location}); triage ${
        dashboard.triageEnabled ? 'enabled (Bearer token)' : 'disabled: no token (read-only)'
      }\n`,
    );
    // Machine-readable first line on stdout, for scripts and tests that start it with --port 0.
    process.stdout.write(`${JSON.stringify({ url: dashboard.url })}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await dashboard.close();
    process.stderr.write('pkghunt serve: stopped\n');
    return EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json: false });
  }
}

export function registerServe(program: Command, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('The dashboard: overview, triage queue, package pages, search, live verdicts')
    .option('--db <file|url>', 'SQLite store or postgres:// URL (default PKGHUNT_DB or <cache>/pkghunt.db)')
    .option('--host <address>', 'address to bind (anything but loopback is warned about)', '127.0.0.1')
    .option('--port <n>', 'port (0: a free one)', '8080')
    .option('--token-file <file>', 'file whose first line is the triage token (default PKGHUNT_SERVE_TOKEN)')
    .option('--index-url <url>', "index for the report draft's project link (default pip's)")
    .option('--poll <seconds>', 'how often the live feed looks for new results', '2')
    .option('--downloads-days <n>', 'period of the download counts on package pages', '30')
    .addHelpText(
      'after',
      `
Reading needs nothing; triage decisions (POST /api/triage) need Authorization: Bearer <token>.
Without a token, triage is disabled and the pages say so.
Package pages show download counts when PKGHUNT_STATS_URL or PKGHUNT_GCP_PROJECT (+ a key) is set.
Exit codes: 0 stopped by Ctrl-C/SIGTERM, 1 failure (store, address in use), 2 bad usage.`,
    )
    .action(async (flags: ServeFlags) => {
      setExit(await runServe(flags));
    });
}
