import { Option } from 'commander';
import { KEEP_TRACES } from '../../adapters/store/store.ts';
import { TRACER_CHOICES, type TracerChoice } from '../../adapters/tracer/tracer.ts';

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
