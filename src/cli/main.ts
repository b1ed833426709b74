import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../version.ts';
import { EXIT } from './exit-codes.ts';

type Register = (program: Command, setExit: (code: number) => void) => void;

/**
 * Every command, in the order of `--help`, loaded on demand: a run of one command loads only its
 * own modules (the CLI's start-up is paid by every hunt and analyze; the dashboard's web server or
 * the feed parsers are not needed for those).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  analyze: async () => (await import('./commands/analyze.ts')).registerAnalyze,
  worker: async () => (await import('./commands/worker.ts')).registerWorker,
  index: async () => (await import('./commands/index-sync.ts')).registerIndex,
  hunt: async () => (await import('./commands/hunt.ts')).registerHunt,
  show: async () => (await import('./commands/show.ts')).registerShow,
  query: async () => (await import('./commands/query.ts')).registerQuery,
  export: async () => (await import('./commands/export.ts')).registerExport,
  report: async () => (await import('./commands/report.ts')).registerReport,
  diff: async () => (await import('./commands/diff.ts')).registerDiff,
  eval: async () => (await import('./commands/eval.ts')).registerEval,
  downloads: async () => (await import('./commands/downloads.ts')).registerDownloads,
  watch: async () => (await import('./commands/watch.ts')).registerWatch,
  'report-draft': async () => (await import('./commands/report-draft.ts')).registerReportDraft,
  serve: async () => (await import('./commands/serve.ts')).registerServe,
  triage: async () => (await import('./commands/triage.ts')).registerTriage,
};

/** The CLI: a thin shell that parses flags and hands over to the programmatic API in src/app. */
async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  const program = new Command()
    .name('pkghunt')
    .description(
      'Hunt malicious packages by dynamic analysis: install each in a throw-away sandbox and record what it does.',
    )
    .version(TOOL_VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  // The command named first is the one that runs; `--version` needs none; anything else (help,
  // another flag, a typo) needs all.
  const named = argv[2];
  const loaders =
    named === '--version' || named === '-V'
      ? []
      : named !== undefined && Object.hasOwn(COMMANDS, named)
        ? [COMMANDS[named]]
        : Object.values(COMMANDS);
  for (const load of loaders) {
    if (load === undefined) continue;
    (await load())(program, (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      )
        return EXIT.OK;
      return EXIT.USAGE;
    }
    throw error;
  }
  return exitCode;
}

// A reader that went away (`pkghunt ... | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `pkghunt: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.FAILURE;
  },
);
