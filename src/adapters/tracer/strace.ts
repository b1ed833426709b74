import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PkghuntError } from '../../core/errors.ts';
import { oncePerProcess } from '../once-per-process.ts';
import type { Tracer } from './tracer.ts';

const run = promisify(execFile);

/**
 * The syscalls traced. Kept narrow on purpose: with --seccomp-bpf only these stop the tracee, and
 * each addition costs time on every call (a pip install went 2.1 s -> 9.6 s with whole classes).
 * Beyond files/exec/network, the clone family builds the process tree, chdir/fchdir keep each
 * process's cwd (relative paths), kill/tkill/tgkill show kill attempts and socket tells TCP from UDP.
 */
export const STRACE_SYSCALLS = [
  'execve',
  'execveat',
  'clone',
  'clone3',
  'fork',
  'vfork',
  'chdir',
  'fchdir',
  'kill',
  'tkill',
  'tgkill',
  'openat',
  'open',
  'creat',
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
  'chmod',
  'fchmodat',
  'symlink',
  'symlinkat',
  'mkdir',
  'mkdirat',
  'socket',
  'connect',
  'bind',
  'sendto',
  'sendmsg',
  'sendmmsg',
] as const;

const DEFAULT_STRING_LIMIT = 4096;

const PIDNS_PREFIX = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', '--'] as const;

/**
 * strace, run outside the sandbox around its launcher. `-q` (not `-qq`) keeps the
 * `+++ exited with N +++` / `+++ killed by SIG +++` lines the process tree needs; `-ttt` gives
 * epoch timestamps so times line up with the capture.
 */
export function createStraceTracer(options: { stringLimit?: number } = {}): Tracer {
  const limit = options.stringLimit ?? DEFAULT_STRING_LIMIT;
  return {
    name: 'strace',
    wrap(command, { traceFile }) {
      return [
        // strace in a pid namespace of its own, with its own /proc: --pidns-translation finds a
        // clone()'s host pid by reading every /proc/PID/status strace can see, ~4.5 ms per fork with
        // the host's processes, ~0.4 ms with only the sandbox's (300 forks: 1.26-1.61 s -> 0.28-0.32 s).
        // The sandbox still cannot see its tracer (its own pid namespace is nested one level below).
        // --kill-child: strace dies with the unshare the host spawned and may kill.
        ...PIDNS_PREFIX,
        'strace',
        '-f',
        '-q',
        // Sandboxed processes live in their own pid namespace: print clone()'s host pid too.
        '--pidns-translation',
        '-ttt',
        '-s',
        String(limit),
        '--seccomp-bpf',
        '-e',
        `trace=${STRACE_SYSCALLS.join(',')}`,
        '-o',
        traceFile,
        '--',
        ...command,
      ];
    },
  };
}

/**
 * Throws CAPABILITY_MISSING when strace is absent or too old (--seccomp-bpf came in 5.3,
 * --pidns-translation in 5.9), or cannot run in a pid namespace of its own; checked once per process.
 */
export const checkStrace: () => Promise<void> = oncePerProcess(() => _check());

async function _check(): Promise<void> {
  const hint = 'apt-get install strace (version 5.9 or later)';
  let stdout: string;
  try {
    ({ stdout } = await run('strace', ['-V'], { timeout: 10_000 }));
  } catch (cause) {
    throw new PkghuntError('CAPABILITY_MISSING', 'Cannot run strace: it is not installed or not on PATH', {
      hint,
      cause,
    });
  }
  const m = /version (\d+)\.(\d+)/.exec(stdout);
  const major = Number(m?.[1] ?? 0);
  const minor = Number(m?.[2] ?? 0);
  if (major < 5 || (major === 5 && minor < 9)) {
    throw new PkghuntError(
      'CAPABILITY_MISSING',
      `Cannot use strace ${m ? `${major}.${minor}` : '(unknown version)'}: pkghunt needs 5.9 or later (--seccomp-bpf, --pidns-translation)`,
      { hint },
    );
  }
  // The flag can also be refused at run time (no seccomp in the kernel): try it once on `true`.
  try {
    await run(
      'strace',
      ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=execve', '-o', '/dev/null', '--', 'true'],
      {
        timeout: 10_000,
      },
    );
  } catch (cause) {
    throw new PkghuntError('CAPABILITY_MISSING', 'Cannot trace with strace --seccomp-bpf on this host', {
      hint: 'strace needs ptrace and seccomp; check kernel.yama.ptrace_scope and that the kernel has seccomp',
      cause,
    });
  }
  const [unshare, ...prefixArgs] = PIDNS_PREFIX;
  try {
    await run(unshare, [...prefixArgs, 'strace', '-f', '-qq', '-o', '/dev/null', '--', 'true'], {
      timeout: 10_000,
    });
  } catch (cause) {
    throw new PkghuntError('CAPABILITY_MISSING', 'Cannot start strace in a pid namespace of its own', {
      hint: "pkghunt runs strace under `unshare --pid --fork --mount-proc --kill-child`: it needs root and util-linux's unshare 2.32 or later (apt-get install util-linux)",
      cause,
    });
  }
}
