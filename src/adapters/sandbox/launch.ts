import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export const TAIL_BYTES = 4096;
const RESULT_MAX_BYTES = 8 * 1024 * 1024;
/** After the launcher exits, how long a process that escaped the kill may hold the pipes open. */
const CLOSE_GUARD_MS = 2000;

export type OutputStream = 'stdout' | 'stderr';

export interface LaunchResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Epoch seconds (float). */
  startedAt: number;
  stdoutTail: string;
  stderrTail: string;
  outputBytes: number;
  timedOut: boolean;
  outputExceeded: boolean;
  /** Bytes written to fd 3, when a result fd was asked for. */
  result: Buffer | null;
  /** Set when the launcher could not be spawned at all. */
  spawnError: string | null;
}

/** One phase of a two-phase launch: its own output, result and clock. */
export interface LaunchPart {
  /** Epoch seconds (float). */
  startedAt: number;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
  outputBytes: number;
  result: Buffer | null;
  timedOut: boolean;
}

export interface TwoPartLaunchResult {
  exitCode: number | null;
  signal: string | null;
  outputExceeded: boolean;
  spawnError: string | null;
  first: LaunchPart;
  /** Null when the second part never started (the first did not complete, or onBoundary said stop). */
  second: LaunchPart | null;
}

function _keepTail(tail: Buffer, chunk: Buffer): Buffer {
  const joined = Buffer.concat([tail, chunk]);
  return joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
}

/** Collects one part's stdout, stderr and result stream: tails, byte count, result bytes. */
class PartCollector {
  readonly startedAt = Date.now();
  #stdout: Buffer = Buffer.alloc(0);
  #stderr: Buffer = Buffer.alloc(0);
  #result: Buffer[] = [];
  #resultBytes = 0;
  #decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  #endedAt: number | null = null;
  outputBytes = 0;
  timedOut = false;

  /** The part's clock stops here (its output may still be read afterwards). */
  stop(): void {
    this.#endedAt ??= Date.now();
  }

  /** The result bytes up to the first newline, once one has arrived (else null). */
  resultLine(): Buffer | null {
    const all = Buffer.concat(this.#result);
    const end = all.indexOf(0x0a);
    return end < 0 ? null : all.subarray(0, end);
  }

  output(stream: OutputStream, chunk: Buffer): string {
    this.outputBytes += chunk.length;
    if (stream === 'stdout') this.#stdout = _keepTail(this.#stdout, chunk);
    else this.#stderr = _keepTail(this.#stderr, chunk);
    return this.#decoders[stream].write(chunk);
  }

  result(chunk: Buffer): void {
    this.#resultBytes += chunk.length;
    if (this.#resultBytes <= RESULT_MAX_BYTES) this.#result.push(chunk);
  }

  part(withResult: boolean): LaunchPart {
    return {
      startedAt: this.startedAt / 1000,
      durationMs: (this.#endedAt ?? Date.now()) - this.startedAt,
      stdoutTail: this.#stdout.toString('utf8'),
      stderrTail: this.#stderr.toString('utf8'),
      outputBytes: this.outputBytes,
      result: withResult && this.#resultBytes <= RESULT_MAX_BYTES ? Buffer.concat(this.#result) : null,
      timedOut: this.timedOut,
    };
  }
}

interface LaunchOptions {
  timeoutMs: number;
  outputLimitBytes: number;
  killAll: () => Promise<void>;
  /** The launcher's environment, which bwrap passes on to the sandbox. */
  env: Record<string, string>;
}

/**
 * Spawns a launcher argv with `fds` stdio entries (0 ignored, the rest pipes) and enforces the
 * wall-clock and output limits on it. `killAll` must end every sandboxed process (the launcher's
 * own pid alone would leave a daemon behind).
 */
function _spawn(argv: readonly string[], fds: number, options: LaunchOptions) {
  const [file, ...args] = argv;
  const child = spawn(file ?? 'false', args, {
    stdio: ['ignore', ...Array.from({ length: fds - 1 }, () => 'pipe' as const)],
    env: options.env,
    detached: true,
  });
  let killing: Promise<void> | null = null;
  const kill = () => {
    killing ??= options.killAll().catch(() => undefined);
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The launcher's group is already gone.
    }
  };
  let timer: NodeJS.Timeout | null = null;
  const control = {
    child,
    kill,
    /** Starts (or restarts) the wall-clock limit; `onTimeout` runs before the kill. */
    arm(ms: number, onTimeout: () => void) {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        onTimeout();
        kill();
      }, ms);
    },
    /** The launcher's end: exit code, signal, spawn error; waits for the kill and the pipes. */
    done: new Promise<{ exitCode: number | null; signal: string | null; spawnError: string | null }>(
      (resolve) => {
        let settled = false;
        const finish = async (exitCode: number | null, signal: string | null, spawnError: string | null) => {
          if (settled) return;
          settled = true;
          if (timer !== null) clearTimeout(timer);
          if (killing !== null) await killing;
          resolve({ exitCode, signal, spawnError });
        };
        child.on('error', (error) => void finish(null, null, error.message));
        child.on('exit', (code, signal) => {
          // A process that escaped the kill could hold the pipes open: do not wait on them forever.
          const guard = setTimeout(() => {
            for (const stream of child.stdio) stream?.destroy();
            void finish(code, signal, null);
          }, CLOSE_GUARD_MS);
          child.on('close', () => {
            clearTimeout(guard);
            void finish(code, signal, null);
          });
        });
      },
    ),
  };
  return control;
}

/** Runs one launch: stdout, stderr and (with `resultFd`) a result stream on fd 3. */
export async function launch(
  argv: readonly string[],
  options: LaunchOptions & {
    resultFd: boolean;
    onOutput?: ((stream: OutputStream, text: string) => void) | undefined;
  },
): Promise<LaunchResult> {
  const spawned = _spawn(argv, options.resultFd ? 4 : 3, options);
  const { child } = spawned;
  const part = new PartCollector();
  let outputExceeded = false;
  spawned.arm(options.timeoutMs, () => {
    part.timedOut = true;
  });
  const onData = (stream: OutputStream) => (chunk: Buffer) => {
    const text = part.output(stream, chunk);
    if (options.onOutput) options.onOutput(stream, text);
    if (part.outputBytes > options.outputLimitBytes && !outputExceeded) {
      outputExceeded = true;
      spawned.kill();
    }
  };
  child.stdio[1]?.on('data', onData('stdout'));
  child.stdio[2]?.on('data', onData('stderr'));
  child.stdio[3]?.on('data', (chunk: Buffer) => part.result(chunk));
  const end = await spawned.done;
  const { stdoutTail, stderrTail, outputBytes, result, timedOut, startedAt, durationMs } = part.part(
    options.resultFd,
  );
  return {
    ...end,
    durationMs,
    startedAt,
    stdoutTail,
    stderrTail,
    outputBytes,
    timedOut,
    outputExceeded,
    result,
  };
}

/**
 * Runs two phases in one launch (the runner's `--then-import`): fds 1, 2, 3 carry the first
 * part's stdout, stderr and result, fds 4, 5 the second part's stdout and stderr, fd 6 (a
 * socket) the go-ahead in and the second part's result out. The first part ends when its result
 * line (JSON, then a newline) has come in on fd 3: the runner writes it after the first phase's
 * processes are gone. `onBoundary` then sees the first part and says whether the second runs,
 * with its own time limit. Output read later from fds 1 and 2 still belongs to the first part
 * (nothing else writes there): the returned `first` is complete, the one `onBoundary` saw may
 * lack the last chunks of output.
 */
export async function launchTwoParts(
  argv: readonly string[],
  options: LaunchOptions & {
    secondTimeoutMs: number;
    onBoundary: (first: LaunchPart) => Promise<boolean>;
    onOutput?: ((part: 0 | 1, stream: OutputStream, text: string) => void) | undefined;
  },
): Promise<TwoPartLaunchResult> {
  const spawned = _spawn(argv, 7, options);
  const { child } = spawned;
  const firstPart = new PartCollector();
  /** The second part, once the runner was told to go on (a holder: set inside a callback). */
  const state: { second: PartCollector | null } = { second: null };
  let exited = false;
  let outputExceeded = false;
  spawned.arm(options.timeoutMs, () => {
    (state.second ?? firstPart).timedOut = true;
  });
  const onData = (index: 0 | 1, stream: OutputStream) => (chunk: Buffer) => {
    const part = index === 0 ? firstPart : state.second;
    if (part === null) return;
    const text = part.output(stream, chunk);
    if (options.onOutput) options.onOutput(index, stream, text);
    if (
      firstPart.outputBytes + (state.second?.outputBytes ?? 0) > options.outputLimitBytes &&
      !outputExceeded
    ) {
      outputExceeded = true;
      spawned.kill();
    }
  };
  const stdio = child.stdio as unknown as readonly (Readable | null)[];
  const [, out1, err1, result1, out2, err2] = stdio;
  // A socket (node's stdio pipes are socket pairs): read and written.
  const socket = (stdio[6] ?? null) as (Readable & Writable) | null;
  out1?.on('data', onData(0, 'stdout'));
  err1?.on('data', onData(0, 'stderr'));
  out2?.on('data', onData(1, 'stdout'));
  err2?.on('data', onData(1, 'stderr'));
  socket?.on('data', (chunk: Buffer) => state.second?.result(chunk));
  // Writing to a runner that is already gone fails with EPIPE: nothing to do about it.
  socket?.on('error', () => undefined);
  child.once('exit', () => {
    exited = true;
  });
  let boundary: Promise<void> = Promise.resolve();
  let crossed = false;
  result1?.on('data', (chunk: Buffer) => {
    firstPart.result(chunk);
    if (crossed || firstPart.resultLine() === null) return;
    crossed = true;
    firstPart.stop();
    boundary = (async () => {
      const go =
        !exited && !outputExceeded && !firstPart.timedOut
          ? await options.onBoundary(firstPart.part(true)).catch(() => false)
          : false;
      if (!go || exited) {
        socket?.end('stop\n');
        return;
      }
      state.second = new PartCollector();
      spawned.arm(options.secondTimeoutMs, () => {
        if (state.second !== null) state.second.timedOut = true;
      });
      socket?.write('go\n');
    })();
  });
  const end = await spawned.done;
  await boundary;
  firstPart.stop();
  state.second?.stop();
  const first = firstPart.part(true);
  return {
    ...end,
    outputExceeded,
    first: { ...first, result: firstPart.resultLine() ?? first.result },
    second: state.second === null ? null : state.second.part(true),
  };
}
