import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PkghuntError } from '../../core/errors.ts';
import { BpfTraceConverter } from '../../core/trace/bpf/bpf-trace-converter.ts';
import type { Tracer } from './tracer.ts';

const run = promisify(execFile);

export const BPFTRACE_SCRIPT = fileURLToPath(new URL('./pkghunt.bt', import.meta.url));
export const BPFTRACE_WRAPPER = fileURLToPath(new URL('./bpftrace-wrap.sh', import.meta.url));
const TRACEFS = '/sys/kernel/tracing';
const BTF = '/sys/kernel/btf/vmlinux';

/**
 * The eBPF tracer: bpftrace runs outside the sandbox, started by a small wrapper that holds the
 * launcher until every probe is attached and exits only once the trace is complete. The raw trace
 * is converted to strace lines on reading (readTrace), so the strace parser builds the behaviour.
 */
export function createBpftraceTracer(): Tracer {
  return {
    name: 'bpftrace',
    wrap(command, { traceFile }) {
      // Unknown to the sandbox: records of the raw trace start with it, so none can be forged.
      const nonce = String(randomBytes(6).readUIntBE(0, 6));
      return ['bash', BPFTRACE_WRAPPER, BPFTRACE_SCRIPT, traceFile, nonce, '--', ...command];
    },
    readTrace(traceFile) {
      return readBpftraceTrace(traceFile);
    },
  };
}

/** The strace-format lines of a raw bpftrace trace (see BpfTraceConverter). */
export async function* readBpftraceTrace(traceFile: string): AsyncGenerator<string> {
  const converter = new BpfTraceConverter();
  let rest = '';
  // latin1 keeps one char per byte; split on \n only (paths may hold \r).
  for await (const chunk of createReadStream(traceFile, { encoding: 'latin1' })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) yield* converter.push(part);
  }
  if (rest !== '') yield* converter.push(rest);
  yield* converter.finish();
}

let checked: Promise<void> | null = null;

/** Throws CAPABILITY_MISSING when bpftrace, tracefs, BTF or BPF tracepoints are unavailable (checked once). */
export function checkBpftrace(): Promise<void> {
  checked ??= _check().catch((error: unknown) => {
    checked = null;
    throw error;
  });
  return checked;
}

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
  try {
    // Compiles and loads a tracepoint program. Not attached: detaching a tracepoint was seen to
    // take seconds to minutes on this kernel, and the wrapper reports attach failures itself.
    await _runQuiet(
      'bpftrace',
      ['-q', '-e', 'tracepoint:sched:sched_process_exit /0/ {} BEGIN { exit(); }'],
      30_000,
    );
  } catch (cause) {
    throw new PkghuntError(
      'CAPABILITY_MISSING',
      'Cannot attach a BPF tracepoint with bpftrace on this host',
      {
        hint: 'bpftrace needs root (CAP_BPF, CAP_PERFMON) and a kernel with BPF tracepoint support.',
        cause,
      },
    );
  }
}

/** Runs a command with stdin/stdout closed to pipes (bpftrace was seen dying of SIGPIPE on them). */
function _runQuiet(file: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
  });
}
