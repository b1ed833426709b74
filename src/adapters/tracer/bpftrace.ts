import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PkghuntError } from '../../core/errors.ts';
import { BpfTraceConverter } from '../../core/trace/bpf/bpf-trace-converter.ts';
import { oncePerProcess } from '../once-per-process.ts';
import { type BpftraceDaemon, sharedBpftraceDaemon } from './bpftrace-daemon.ts';
import type { Tracer } from './tracer.ts';

const run = promisify(execFile);

const TRACEFS = '/sys/kernel/tracing';
const BTF = '/sys/kernel/btf/vmlinux';

/**
 * The eBPF tracer: one long-lived bpftrace per pkghunt process (BpftraceDaemon) pays its ~1 s
 * start-up once. wrap() puts a registration in front of the launcher (`kill -0 TOKEN` from the
 * launch's first process, then exec); readTrace() waits for the launch's stop marker and converts
 * its raw trace to strace lines, so the strace parser builds the behaviour (one model for both).
 * One tracer per analysis: lostEvents() counts what bpftrace dropped during its launches.
 */
export function createBpftraceTracer(options: { daemon?: BpftraceDaemon } = {}): Tracer {
  const daemon = options.daemon ?? sharedBpftraceDaemon();
  const tokens = new Map<string, number>();
  let lost = 0;
  async function settle(traceFile: string): Promise<void> {
    const token = tokens.get(traceFile);
    if (token === undefined) return;
    tokens.delete(traceFile);
    const closed = await daemon.close(token);
    lost += closed.lostEvents;
  }
  return {
    name: 'bpftrace',
    prepare() {
      return daemon.ready();
    },
    wrap(command, { traceFile }) {
      const token = daemon.open(traceFile);
      tokens.set(traceFile, token);
      return ['bash', '-c', 'kill -0 "$0" 2>/dev/null; exec "$@"', String(token), ...command];
    },
    settle,
    async *readTrace(traceFile) {
      await settle(traceFile);
      yield* readBpftraceTrace(traceFile);
    },
    lostEvents() {
      return lost;
    },
  };
}

/** Converted traces kept for their second reader (the analysis reads a trace, then the store). */
const converted = new Map<string, { size: number; mtimeMs: number; lines: string[] }>();
const CONVERTED_KEPT = 4;
/** Lines handed out from memory between two turns of the event loop. */
const YIELD_EVERY = 2000;
/** Larger traces are converted again rather than held in memory. */
const CONVERTED_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The strace-format lines of a raw bpftrace trace (see BpfTraceConverter). The conversion is
 * pure: a file read again unchanged (same size and mtime) gets the lines of its first reading.
 */
export async function* readBpftraceTrace(traceFile: string): AsyncGenerator<string> {
  const info = await stat(traceFile);
  const kept = converted.get(traceFile);
  if (kept !== undefined && kept.size === info.size && kept.mtimeMs === info.mtimeMs) {
    converted.delete(traceFile);
    for (let i = 0; i < kept.lines.length; i += YIELD_EVERY) {
      // Lines from memory never wait for I/O: without a pause, reading a whole trace would hold
      // the event loop (the next phase's launch and bookkeeping run meanwhile).
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      yield* kept.lines.slice(i, i + YIELD_EVERY);
    }
    return;
  }
  const lines: string[] | null = info.size <= CONVERTED_MAX_BYTES ? [] : null;
  const converter = new BpfTraceConverter();
  let rest = '';
  // latin1 keeps one char per byte; split on \n only (paths may hold \r).
  for await (const chunk of createReadStream(traceFile, { encoding: 'latin1' })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      const out = converter.push(part);
      lines?.push(...out);
      yield* out;
    }
  }
  const tail = [...(rest === '' ? [] : converter.push(rest)), ...converter.finish()];
  lines?.push(...tail);
  yield* tail;
  if (lines === null) return;
  converted.set(traceFile, { size: info.size, mtimeMs: info.mtimeMs, lines });
  while (converted.size > CONVERTED_KEPT) {
    const oldest = converted.keys().next().value;
    if (oldest === undefined) break;
    converted.delete(oldest);
  }
}

/** Throws CAPABILITY_MISSING when bpftrace, tracefs, BTF or BPF tracepoints are unavailable (checked once). */
export const checkBpftrace: () => Promise<void> = oncePerProcess(() => _check());

async function _check(): Promise<void> {
  try {
    await run('bpftrace', ['--version'], { timeout: 10_000 });
  } catch (cause) {
    throw new PkghuntError('CAPABILITY_MISSING', 'Cannot run bpftrace: it is not installed or not on PATH', {
      hint: 'apt-get install bpftrace (0.17 or later)',
      cause,
    });
  }
  try {
    await access(`${TRACEFS}/events/syscalls`);
  } catch (cause) {
    throw new PkghuntError(
      'CAPABILITY_MISSING',
      `Cannot use bpftrace: tracefs is not mounted at ${TRACEFS}`,
      {
        hint: `mount -t tracefs nodev ${TRACEFS} (as root)`,
        cause,
      },
    );
  }
  try {
    await access(BTF);
  } catch (cause) {
    throw new PkghuntError('CAPABILITY_MISSING', `Cannot use bpftrace: the kernel has no BTF (${BTF})`, {
      hint: 'Use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or the strace tracer.',
      cause,
    });
  }
  // Whether probes attach is learnt when the daemon starts (BpftraceDaemon.ready), which names
  // bpftrace's own error: a separate probe program here would cost another second.
}
