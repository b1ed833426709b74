import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runEval } from '../../app/eval.ts';
import { runNpmEval } from '../../app/eval-npm.ts';
import { openResultStore } from '../../app/open-store.ts';
import { readPopularList, seedPopularProjects } from '../../app/seed-popular.ts';
import { loadConfig, PROJECT_ROOT } from '../../config.ts';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { renderEvalMarkdown } from '../../core/eval/render-eval.ts';
import { renderNpmEvalMarkdown } from '../../core/eval/render-npm-eval.ts';
import { EXIT } from '../exit-codes.ts';
import { printError, writeFileAtomic } from '../output.ts';

interface EvalFlags {
  samples?: string;
  dataset?: string;
  popularDb?: string;
  popularList?: string;
  npmRecords?: string;
  population: boolean;
  seedPopular?: string;
  json?: boolean;
  markdown?: string;
}

const DEFAULT_SAMPLES = join(PROJECT_ROOT, 'out/dataset/records');
const DEFAULT_DATASET = resolve(PROJECT_ROOT, '../shared/datasets/pypi-malware-dev');
const DEFAULT_POPULAR_DB = join(PROJECT_ROOT, 'out/eval/popular.db');
const DEFAULT_POPULAR_LIST = join(PROJECT_ROOT, 'data/popular-pypi.json');
const DEFAULT_POPULAR_NPM_LIST = join(PROJECT_ROOT, 'data/popular-npm.json');

function _machine(name: string): string {
  return `${name} (${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GB, Linux ${release()})`;
}

async function _npmEval(flags: EvalFlags & { npmRecords: string }): Promise<number> {
  if (!existsSync(join(flags.npmRecords, 'records'))) {
    throw new PkghuntError(
      'LOCAL_FILE_NOT_FOUND',
      `Cannot find the npm records ${join(flags.npmRecords, 'records')}`,
      {
        hint: 'Run scripts/eval-npm-popular.sh first (it keeps DIR/records and DIR/failed), or give its folder.',
      },
    );
  }
  const report = await runNpmEval({
    dir: flags.npmRecords,
    listFile: flags.popularList ?? DEFAULT_POPULAR_NPM_LIST,
    command: _commandLine(),
    onWarning: (message) => process.stderr.write(`eval: warning: ${message}\n`),
  });
  report.machine = _machine(report.machine);
  const markdown = renderNpmEvalMarkdown(report);
  if (flags.markdown !== undefined) await writeFile(flags.markdown, markdown);
  process.stdout.write(flags.json === true ? `${JSON.stringify(report)}\n` : markdown);
  return EXIT.OK;
}

function _commandLine(): string {
  return ['bin/pkghunt', ...process.argv.slice(2)].join(' ');
}

async function _seed(flags: EvalFlags, namesOut: string): Promise<number> {
  const db = flags.popularDb ?? DEFAULT_POPULAR_DB;
  const { store } = await openResultStore(db, loadConfig());
  try {
    const names = await seedPopularProjects(
      store,
      await readPopularList(flags.popularList ?? DEFAULT_POPULAR_LIST),
    );
    await writeFileAtomic(namesOut, `${names.join('\n')}\n`);
    process.stderr.write(`eval: ${names.length} popular projects in ${db}, names in ${namesOut}\n`);
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

async function runEvalCommand(flags: EvalFlags): Promise<number> {
  const json = flags.json === true;
  try {
    if (flags.seedPopular !== undefined) return await _seed(flags, flags.seedPopular);
    if (flags.npmRecords !== undefined) return await _npmEval({ ...flags, npmRecords: flags.npmRecords });
    const config = loadConfig();
    const samplesDir = flags.samples ?? (existsSync(DEFAULT_SAMPLES) ? DEFAULT_SAMPLES : null);
    if (samplesDir !== null && !existsSync(samplesDir)) {
      throw new PkghuntError('LOCAL_FILE_NOT_FOUND', `Cannot find the sample records ${samplesDir}`, {
        hint: 'Run `make dataset` first, or give --samples DIR.',
      });
    }
    const datasetDir =
      flags.dataset ?? (flags.samples === undefined && existsSync(DEFAULT_DATASET) ? DEFAULT_DATASET : null);
    const popularDb = flags.popularDb ?? (existsSync(DEFAULT_POPULAR_DB) ? DEFAULT_POPULAR_DB : null);
    if (popularDb !== null && !existsSync(popularDb) && !/^postgres/.test(popularDb)) {
      throw new PkghuntError('LOCAL_FILE_NOT_FOUND', `Cannot find the popular store ${popularDb}`, {
        hint: 'Run `make eval` (it hunts the popular projects first), or give --popular-db FILE.',
      });
    }
    const opened = popularDb === null ? null : await openResultStore(popularDb, config);
    try {
      const report = await runEval({
        samplesDir,
        datasetDir,
        popularStore: opened?.store ?? null,
        popularListFile: flags.popularList ?? DEFAULT_POPULAR_LIST,
        artifactsDir: join(config.cacheDir, 'artifacts'),
        population: flags.population,
        command: _commandLine(),
        onWarning: (message) => process.stderr.write(`eval: warning: ${message}\n`),
      });
      report.machine = _machine(report.machine);
      const markdown = renderEvalMarkdown(report);
      if (flags.markdown !== undefined) await writeFile(flags.markdown, markdown);
      process.stdout.write(json ? `${JSON.stringify(report)}\n` : markdown);
      return EXIT.OK;
    } finally {
      await opened?.store.close();
    }
  } catch (error) {
    return printError(toPkghuntError(error), { json });
  }
}

export function registerEval(program: Command, setExit: (code: number) => void): void {
  program
    .command('eval')
    .description(
      'Re-score stored records with the current rules: recall over the malware samples, false positives over popular projects',
    )
    .option(
      '--samples <dir>',
      'records of the malware samples, <name>-<version>.json (default out/dataset/records)',
    )
    .option(
      '--dataset <dir>',
      'the dataset (labels.tsv, samples.zip) for the sample list and static signals (default ../shared/datasets/pypi-malware-dev when --samples is not given)',
    )
    .option('--popular-db <file>', 'the store of the popular hunt (default out/eval/popular.db when present)')
    .option(
      '--popular-list <file>',
      'the popular projects (default data/popular-pypi.json; with --npm-records data/popular-npm.json)',
    )
    .option(
      '--npm-records <dir>',
      'false positives over popular npm packages instead: re-score the records scripts/eval-npm-popular.sh kept in DIR/records (failures in DIR/failed, tarballs in DIR/cache/artifacts)',
    )
    .option('--no-population', "score without the popular store's population")
    .option(
      '--seed-popular <names-file>',
      'only put the popular projects in --popular-db and write their names to FILE (for hunt --from)',
    )
    .option('--json', 'print the evaluation as one JSON object')
    .option('--markdown <file>', 'also write the evaluation as Markdown to FILE')
    .addHelpText(
      'after',
      `
Nothing runs in a sandbox here: the records come from \`make dataset\` (samples) and from
\`hunt --db out/eval/popular.db\` (popular projects); the static signals are read from the
sample archives in memory. Exit codes: 0 evaluation printed, 1 failure, 2 bad usage.

Re-score what is stored, without new sandbox runs:
  bin/pkghunt eval --popular-db out/eval/popular.db --markdown out/eval/evaluation.md   # PyPI
  bin/pkghunt eval --npm-records out/eval-npm --markdown out/eval-npm/evaluation-npm.md  # npm`,
    )
    .action(async (flags: EvalFlags) => {
      setExit(await runEvalCommand(flags));
    });
}
