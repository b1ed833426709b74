import { Command, CommanderError } from 'commander';
import { TOOL_VERSION } from '../app/analyze.ts';
import { registerAnalyze } from './commands/analyze.ts';
import { registerDiff } from './commands/diff.ts';
import { registerDownloads } from './commands/downloads.ts';
import { registerEval } from './commands/eval.ts';
import { registerExport } from './commands/export.ts';
import { registerHunt } from './commands/hunt.ts';
import { registerIndex } from './commands/index-sync.ts';
import { registerQuery } from './commands/query.ts';
import { registerReport } from './commands/report.ts';
import { registerReportDraft } from './commands/report-draft.ts';
import { registerServe } from './commands/serve.ts';
import { registerShow } from './commands/show.ts';
import { registerTriage } from './commands/triage.ts';
import { registerWatch } from './commands/watch.ts';
import { registerWorker } from './commands/worker.ts';
import { EXIT } from './exit-codes.ts';

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
  registerAnalyze(program, (code) => {
    exitCode = code;
  });
  registerWorker(program, (code) => {
    exitCode = code;
  });
  for (const register of [
    registerIndex,
    registerHunt,
    registerShow,
    registerQuery,
    registerExport,
    registerReport,
    registerDiff,
    registerEval,
    registerDownloads,
    registerWatch,
    registerReportDraft,
    registerServe,
    registerTriage,
  ]) {
    register(program, (code) => {
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
