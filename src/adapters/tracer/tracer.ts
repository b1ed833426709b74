/**
 * A tracer watches every process of one sandboxed phase and leaves a trace file that the core
 * parser turns into events. strace is the first implementation; an eBPF tracer can follow behind
 * the same interface.
 */
export interface Tracer {
  /** Short name recorded in the behaviour record (`sandbox.tracer`). */
  readonly name: string;
  /**
   * Returns the argv that runs `command` under the tracer, writing the trace to `traceFile`.
   * The tracer itself runs outside the sandbox (it wraps the sandbox launcher).
   */
  wrap(command: readonly string[], options: { traceFile: string }): string[];
  /**
   * The trace as strace `-f -ttt` lines for TraceBehaviourBuilder, for tracers whose own format
   * differs (bpftrace). Absent: the trace file already holds strace lines.
   */
  readTrace?(traceFile: string): AsyncIterable<string>;
  /**
   * Waits until the phase's trace file is complete, once the phase's processes have exited
   * (bpftrace: its stop markers; readTrace does it too when it was not called). Absent: complete
   * when the launcher exited (strace writes the file itself).
   */
  settle?(traceFile: string): Promise<void>;
  /** Starts what wrap() needs (the long-lived bpftrace); call once before the first wrap(). */
  prepare?(): Promise<void>;
  /** Events the tracer dropped so far (bpftrace under load); absent: it never drops any. */
  lostEvents?(): number;
}

/** The null tracer: runs the command as it is (benchmarks compare against it). */
export const noTracer: Tracer = {
  name: 'none',
  wrap(command) {
    return [...command];
  },
};

export const TRACER_NAMES = ['strace', 'bpftrace', 'none'] as const;
export type TracerName = (typeof TRACER_NAMES)[number];
/** What `--tracer` accepts: a tracer, or `auto` (bpftrace where it runs, else strace). */
export const TRACER_CHOICES = [...TRACER_NAMES, 'auto'] as const;
export type TracerChoice = (typeof TRACER_CHOICES)[number];
