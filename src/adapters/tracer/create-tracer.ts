import { isPkghuntError } from '../../core/errors.ts';
import { checkBpftrace, createBpftraceTracer } from './bpftrace.ts';
import { checkStrace, createStraceTracer } from './strace.ts';
import { noTracer, type Tracer, type TracerChoice, type TracerName } from './tracer.ts';

/** A fresh tracer for one analysis (bpftrace ones share the process's long-lived bpftrace). */
export function createTracer(name: TracerName): Tracer {
  if (name === 'none') return noTracer;
  return name === 'bpftrace' ? createBpftraceTracer() : createStraceTracer();
}

/** Throws CAPABILITY_MISSING naming what the tracer lacks on this host, then starts what it needs. */
export async function checkTracer(tracer: Tracer): Promise<void> {
  if (tracer.name === 'strace') await checkStrace();
  if (tracer.name === 'bpftrace') await checkBpftrace();
  await tracer.prepare?.();
}

/**
 * The tracer for one analysis. `auto` is bpftrace when this host can run it (checked and started
 * here), else strace, with a warning that says why: bpftrace is the quicker of the two once
 * started (docs/BENCHMARKS.md), so long-running hunts and workers choose it.
 */
export async function selectTracer(
  choice: TracerChoice,
  options: { onWarning?: (message: string) => void } = {},
): Promise<Tracer> {
  if (choice !== 'auto') return createTracer(choice);
  const tracer = createBpftraceTracer();
  try {
    await checkTracer(tracer);
    return tracer;
  } catch (error) {
    if (!isPkghuntError(error) || error.code !== 'CAPABILITY_MISSING') throw error;
    options.onWarning?.(`Tracing with strace: ${error.message}${error.hint ? ` (${error.hint})` : ''}`);
    return createStraceTracer();
  }
}
