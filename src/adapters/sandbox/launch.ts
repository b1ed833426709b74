import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export const TAIL_BYTES = 4096;
const RESULT_MAX_BYTES = 8 * 1024 * 1024;

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

function _keepTail(tail: Buffer, chunk: Buffer): Buffer {
  const joined = Buffer.concat([tail, chunk]);
  return joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
}

/**
 * Spawns the launcher argv and enforces the wall-clock and output limits. `killAll` must end
 * every sandboxed process (the launcher's own pid alone would leave a daemon behind).
 */
export function launch(
  argv: readonly string[],
  options: {
    timeoutMs: number;
    outputLimitBytes: number;
    killAll: () => Promise<void>;
    resultFd: boolean;
    /** The launcher's environment, which bwrap passes on to the sandbox. */
    env: Record<string, string>;
    onOutput?: ((stream: OutputStream, text: string) => void) | undefined;
  },
): Promise<LaunchResult> {
  const startedAt = Date.now();
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    let stdoutTail: Buffer = Buffer.alloc(0);
    let stderrTail: Buffer = Buffer.alloc(0);
    let outputBytes = 0;
    let timedOut = false;
    let outputExceeded = false;
    let killing: Promise<void> | null = null;
    const resultChunks: Buffer[] = [];
    let resultBytes = 0;
    const child = spawn(file ?? 'false', args, {
      stdio: ['ignore', 'pipe', 'pipe', options.resultFd ? 'pipe' : 'ignore'],
      env: options.env,
      detached: true,
    });
    const kill = () => {
      killing ??= options.killAll().catch(() => undefined);
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The launcher's group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const onData = (stream: OutputStream) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (stream === 'stdout') stdoutTail = _keepTail(stdoutTail, chunk);
      else stderrTail = _keepTail(stderrTail, chunk);
      if (options.onOutput) options.onOutput(stream, decoders[stream].write(chunk));
      if (outputBytes > options.outputLimitBytes && !outputExceeded) {
        outputExceeded = true;
        kill();
      }
    };
    child.stdout?.on('data', onData('stdout'));
    child.stderr?.on('data', onData('stderr'));
    const resultStream = child.stdio[3];
    resultStream?.on('data', (chunk: Buffer) => {
      resultBytes += chunk.length;
      if (resultBytes <= RESULT_MAX_BYTES) resultChunks.push(chunk);
    });
    let settled = false;
    const finish = async (exitCode: number | null, signal: string | null, spawnError: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killing !== null) await killing;
      resolve({
        exitCode,
        signal,
        durationMs: Date.now() - startedAt,
        startedAt: startedAt / 1000,
        stdoutTail: stdoutTail.toString('utf8'),
        stderrTail: stderrTail.toString('utf8'),
        outputBytes,
        timedOut,
        outputExceeded,
        result: options.resultFd && resultBytes <= RESULT_MAX_BYTES ? Buffer.concat(resultChunks) : null,
        spawnError,
      });
    };
    child.on('error', (error) => void finish(null, null, error.message));
    child.on('exit', (code, signal) => {
      // A process that escaped the kill could hold the pipes open: do not wait on them forever.
      const guard = setTimeout(() => {
        for (const stream of [child.stdout, child.stderr, resultStream]) stream?.destroy();
        void finish(code, signal, null);
      }, 2000);
      child.on('close', () => {
        clearTimeout(guard);
        void finish(code, signal, null);
      });
    });
  });
}
