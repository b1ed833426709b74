import { Option } from 'commander';
import { KEEP_TRACES } from '../../adapters/store/store.ts';
import { TRACER_CHOICES, type TracerChoice } from '../../adapters/tracer/tracer.ts';
import { ECOSYSTEMS } from '../../core/ecosystem.ts';
import { PkghuntError } from '../../core/errors.ts';
import { PhaseName } from '../../core/record/schema.ts';

/** `--phases`, shared by every command that analyses. */
export function phasesOption(): Option {
  return new Option('--phases <list>', 'phases to run, comma-separated: install, import').default(
    'install,import',
  );
}

/** The value of `--phases`: install, import or both, in the order given, each once. */
export function parsePhases(value: string): PhaseName[] {
  const phases = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const parsed = phases.map((p) => PhaseName.safeParse(p));
  if (phases.length === 0 || parsed.some((p) => !p.success)) {
    throw new PkghuntError(
      'USAGE',
      `Cannot use --phases ${JSON.stringify(value)}: expected install, import or install,import`,
    );
  }
  return [...new Set(phases as PhaseName[])];
}

/**
 * `--tracer`, shared by every command that analyses. One-off commands default to strace (no
 * bpftrace start-up to pay); long runs (hunt, worker) to auto, which keeps one bpftrace per process.
 */
export function tracerOption(defaultChoice: TracerChoice): Option {
  return new Option('--tracer <name>', 'system-call tracer (auto: bpftrace where it runs, else strace)')
    .choices(TRACER_CHOICES)
    .default(defaultChoice);
}

/** `--keep-traces`, shared by hunt and worker. */
export function keepTracesOption(): Option {
  return new Option(
    '--keep-traces <what>',
    'raw traces kept next to each record: full, reduced (noise dropped) or none',
  )
    .choices(KEEP_TRACES)
    .default('reduced');
}

/**
 * `--ecosystem`: with a default for the commands that hunt or watch one ecosystem (pypi), without
 * one for the reads, where absent means every ecosystem.
 */
export function ecosystemOption(description: string, defaultValue?: 'pypi'): Option {
  const option = new Option('--ecosystem <name>', description).choices(ECOSYSTEMS);
  return defaultValue === undefined ? option : option.default(defaultValue);
}

/** `--registry`, shared by the commands that read npm packages. */
export function registryOption(): Option {
  return new Option(
    '--registry <url|dir>',
    "npm registry (http(s) URL, or a directory as demo/build-npm-registry.ts writes it); default: npm's configured registry",
  );
}
