import type { Command } from 'commander';
import { Option } from 'commander';
import type { TracerChoice } from '../../adapters/tracer/tracer.ts';
import { analyze } from '../../app/analyze.ts';
import { loadConfig } from '../../config.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { renderSummary } from '../../core/summary/render-summary.ts';
import { createNdjsonReporter } from '../../reporter/ndjson-reporter.ts';
import { silentReporter } from '../../reporter/reporter.ts';
import { createTerminalReporter } from '../../reporter/terminal-reporter.ts';
import { EXIT } from '../exit-codes.ts';
import { printError, writeFileAtomic } from '../output.ts';
import { parsePhases, phasesOption, tracerOption } from './analysis-options.ts';

interface AnalyzeFlags {
  indexUrl?: string;
  registry?: string;
  phases: string;
  timeout?: string;
  json?: boolean;
  out?: string;
  keepTrace?: string;
  tracer: TracerChoice;
  memory?: string;
  pids?: string;
  disk?: string;
  progress: 'auto' | 'ndjson' | 'none';
  verbose?: boolean;
}

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use ${flag} ${JSON.stringify(value)}: expected a positive number`,
    );
  }
  return n;
}

async function runAnalyze(spec: string, flags: AnalyzeFlags): Promise<number> {
  const json = flags.json === true;
  try {
    const config = loadConfig();
    const phases = parsePhases(flags.phases);
    const timeoutS = positiveNumber(flags.timeout, '--timeout');
    const memory = positiveNumber(flags.memory, '--memory');
    const pids = positiveNumber(flags.pids, '--pids');
    const disk = positiveNumber(flags.disk, '--disk');
    const reporter =
      flags.progress === 'none'
        ? silentReporter
        : flags.progress === 'ndjson'
          ? createNdjsonReporter()
          : createTerminalReporter({ verbose: flags.verbose === true });
    const record = await analyze(spec, {
      config,
      phases,
      reporter,
      tracer: flags.tracer,
      ...(flags.indexUrl !== undefined ? { indexUrl: flags.indexUrl } : {}),
      ...(flags.registry !== undefined ? { registry: flags.registry } : {}),
      ...(timeoutS !== undefined ? { timeoutS } : {}),
      ...(flags.keepTrace !== undefined ? { keepTraceDir: flags.keepTrace } : {}),
      limits: {
        ...(memory !== undefined ? { memory_mb: memory } : {}),
        ...(pids !== undefined ? { pids } : {}),
        ...(disk !== undefined ? { disk_mb: disk } : {}),
      },
    });
    const text = `${JSON.stringify(record, null, 2)}\n`;
    if (flags.out) await writeFileAtomic(flags.out, text);
    if (json) process.stdout.write(text);
    else process.stdout.write(renderSummary(record, { color: process.stdout.isTTY === true }));
    // A finding outranks an incomplete run: what was seen is real even if a phase broke.
    if (record.verdict && record.verdict.level !== 'clean') return EXIT.SUSPICIOUS;
    const sandboxError = Object.values(record.phases).some((p) => p?.status === 'sandbox_error');
    return sandboxError ? EXIT.FAILURE : EXIT.OK;
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerAnalyze(program: Command, setExit: (code: number) => void): void {
  program
    .command('analyze')
    .argument(
      '<package>',
      'NAME, NAME==VERSION, the path of a local sdist (.tar.gz/.zip) or wheel (.whl); npm:NAME[@VERSION] or npm:PATH.tgz',
    )
    .description(
      'Install one package in a fresh sandbox with no network, trace it, and print or write its behaviour record',
    )
    .option(
      '--index-url <url>',
      "package index (PEP 503/691) to take the release from; default: pip's configured index",
    )
    .option(
      '--registry <url>',
      "npm registry (URL or local directory) for npm: packages; default: npm's configured registry",
    )
    .addOption(phasesOption())
    .option('--timeout <seconds>', 'wall-clock limit per phase (default 300, or PKGHUNT_TIMEOUT)')
    .option('--json', 'print the behaviour record as JSON on stdout instead of the summary')
    .option('--out <file>', 'also write the behaviour record (JSON) to this file')
    .option('--keep-trace <dir>', 'keep the raw traces, captured traffic and index log in this directory')
    .addOption(tracerOption('strace'))
    .option('--memory <mb>', 'memory limit for the sandbox in MiB (default 2048)')
    .option('--pids <n>', 'maximum number of processes in the sandbox (default 512)')
    .option('--disk <mb>', 'size of the sandbox file system in MiB (default 2048)')
    .addOption(
      new Option(
        '--progress <kind>',
        'progress on stderr: auto (human), ndjson (one JSON event per line) or none',
      )
        .choices(['auto', 'ndjson', 'none'])
        .default('auto'),
    )
    .option('-v, --verbose', "stream pip's output while it runs")
    .addHelpText(
      'after',
      `
Exit codes: 0 analysis completed (whatever the package did), 1 analysis failed, 2 bad usage.

Examples:
  pkghunt analyze requests==2.32.3
  pkghunt analyze ./dist/mypkg-1.0.tar.gz --json --out mypkg.json
  pkghunt analyze somepkg --phases install --timeout 120 --keep-trace ./traces
  pkghunt analyze npm:left-pad@1.3.0
  pkghunt analyze npm:./left-pad-1.3.0.tgz --json`,
    )
    .action(async (spec: string, flags: AnalyzeFlags) => {
      setExit(await runAnalyze(spec, flags));
    });
}
