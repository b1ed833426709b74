import { Option } from 'commander';
import { KEEP_TRACES } from '../../adapters/store/store.ts';
import { TRACER_CHOICES, type TracerChoice } from '../../adapters/tracer/tracer.ts';
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
