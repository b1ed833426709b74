import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PROJECT_ROOT } from '../../config.ts';
import { PkghuntError } from '../../core/errors.ts';
import {
  BPF_TOKEN_BASE,
  BpfOutputSplitter,
  launchReference,
} from '../../core/trace/bpf/bpf-output-splitter.ts';

export const BPFTRACE_SCRIPT = join(PROJECT_ROOT, 'src', 'adapters', 'tracer', 'pkghunt.bt');

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
/** Records of a launch are written to its file once this much is waiting (and at its stop marker). */
const FLUSH_BYTES = 256 * 1024;
/** bpftrace costs ~1 s to start: keep it for the next analysis, but not forever. */
const IDLE_MS = 30_000;

interface Launch {
  token: number;
  /** Null for the start-up probe. */
  file: WriteStream | null;
  /** Lines routed to it and not written yet: written in batches (see #flush). */
  pending: string[];
  pendingBytes: number;
  lost: number;
  stops: number;
  onStop: (() => void) | null;
}

/**
 * One long-lived bpftrace per pkghunt process, shared by every analysis in it (hunt --workers N
 * runs them in one process). Each launch (one sandboxed phase) gets a token; the launch registers
 * its first process with kill(TOKEN, 0) and bpftrace follows its descendants. The output is split
 * by token into one raw trace file per launch, in the format BpfTraceConverter reads.
 */
export class BpftraceDaemon {
  readonly #key = randomInt(1, 256);
  readonly #splitter = new BpfOutputSplitter();
  readonly #launches = new Map<number, Launch>();
  #child: ChildProcess | null = null;
  #starting: Promise<void> | null = null;
  #stderr = '';
  #idle: NodeJS.Timeout | null = null;
  #failure: Error | null = null;

  /** Pid of the running bpftrace, null when none runs. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** Starts bpftrace once and resolves when every probe is attached. */
  ready(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = null;
      throw error;
    });
    return this.#starting;
  }

  /** Opens a launch writing to `traceFile`; returns its token. Call after ready(). */
  open(traceFile: string): number {
    const reference = this.#splitter.reference;
    if (this.#child === null || reference === null) {
      throw new PkghuntError(
        'INTERNAL',
        'Cannot trace with bpftrace: it is not running (call prepare() first)',
      );
    }
    this.#clearIdle();
    let token = 0;
    do token = this.#key * BPF_TOKEN_BASE + randomInt(0, BPF_TOKEN_BASE);
    while (this.#launches.has(token));
    const file = createWriteStream(traceFile, { encoding: 'latin1', mode: 0o600 });
    file.write(`${launchReference(reference, token)}\n`);
    this.#launches.set(token, { token, file, pending: [], pendingBytes: 0, lost: 0, stops: 0, onStop: null });
    this.#splitter.open(token);
    return token;
  }

  /**
   * Ends a launch whose processes have exited: asks bpftrace for the stop marker twice (a record of
   * another CPU may be read after the first), closes the file and returns the lost-event count.
   */
  async close(token: number): Promise<{ lostEvents: number }> {
    const launch = this.#launches.get(token);
    if (!launch) throw new PkghuntError('INTERNAL', `Cannot close bpftrace launch ${token}: unknown`);
    try {
      for (const round of [1, 2]) {
        await this.#askStop(launch, round);
      }
    } finally {
      this.#flush(launch);
      this.#splitter.close(token);
      this.#launches.delete(token);
      await new Promise<void>((resolve) => (launch.file ? launch.file.end(resolve) : resolve()));
      if (this.#launches.size === 0) this.#armIdle();
    }
    return { lostEvents: launch.lost };
  }

  /** Stops bpftrace (it detaches its probes in about a second). */
  shutdown(): void {
    this.#clearIdle();
    const child = this.#child;
    this.#child = null;
    this.#starting = null;
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  async #askStop(launch: Launch, round: number): Promise<void> {
    if (this.#failure) throw this.#failure;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        launch.onStop = null;
        reject(
          new PkghuntError(
            'TRACE_INCOMPLETE',
            `Cannot complete the bpftrace trace of launch ${launch.token}: no stop marker after ${STOP_TIMEOUT_MS} ms`,
            { hint: this.#failure?.message ?? 'bpftrace may be overloaded or dead' },
          ),
        );
      }, STOP_TIMEOUT_MS);
      launch.onStop = () => {
        if (launch.stops < round) return;
        clearTimeout(timer);
        launch.onStop = null;
        resolve();
      };
      _signalZero(-launch.token);
    });
  }

  async #start(): Promise<void> {
    this.#failure = null;
    this.#stderr = '';
    const child = spawn('bpftrace', ['-q', '-B', 'none', BPFTRACE_SCRIPT, String(this.#key)], {
      // Its own process group: a Ctrl-C meant for pkghunt must not end the trace of a phase.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        BPFTRACE_STRLEN: '200',
        BPFTRACE_PERF_RB_PAGES: '1024',
        BPFTRACE_MAP_KEYS_MAX: '65536',
      },
    });
    this.#child = child;
    child.unref();
    _unrefStream(child.stdout);
    _unrefStream(child.stderr);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-4000);
    });
    this.#readLines(child);
    const exited = new Promise<never>((_, reject) => {
      child.on('error', (error) => reject(this.#fail(child, error)));
      child.on('exit', (code, signal) =>
        reject(
          this.#fail(child, new Error(`bpftrace exited with ${code ?? signal}: ${this.#stderr.trim()}`)),
        ),
      );
    });
    exited.catch(() => {});
    const readyToken = this.#key * BPF_TOKEN_BASE;
    this.#splitter.open(readyToken);
    const probe: Launch = {
      token: readyToken,
      file: null,
      pending: [],
      pendingBytes: 0,
      lost: 0,
      stops: 0,
      onStop: null,
    };
    this.#launches.set(readyToken, probe);
    try {
      await Promise.race([exited, this.#waitReady(probe)]);
    } catch (error) {
      this.shutdown();
      throw new PkghuntError('CAPABILITY_MISSING', 'Cannot start bpftrace: its probes did not attach', {
        hint: `${(error as Error).message} ${this.#stderr.trim()}`.trim(),
        cause: error,
      });
    } finally {
      this.#launches.delete(readyToken);
      this.#splitter.close(readyToken);
    }
    _installExitHook(this);
    this.#armIdle();
  }

  async #waitReady(probe: Launch): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    // The stop marker's probe is the last one attached: its answer means all are.
    while (probe.stops === 0) {
      if (Date.now() > deadline) throw new Error(`no answer after ${READY_TIMEOUT_MS} ms`);
      _signalZero(-probe.token);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  #fail(child: ChildProcess, error: Error): Error {
    if (this.#child === child) {
      this.#child = null;
      this.#starting = null;
    }
    this.#failure = error;
    for (const launch of this.#launches.values()) launch.onStop?.();
    return error;
  }

  #readLines(child: ChildProcess): void {
    let rest = '';
    child.stdout?.setEncoding('latin1');
    child.stdout?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) this.#route(part);
      for (const launch of this.#launches.values()) {
        if (launch.pendingBytes >= FLUSH_BYTES) this.#flush(launch);
      }
    });
  }

  /**
   * Writes what was routed to a launch in one call: bpftrace prints unbuffered, so its output comes
   * in small chunks, and a write per record (or per chunk) cost more than the records themselves.
   */
  #flush(launch: Launch): void {
    if (launch.pending.length === 0) return;
    launch.file?.write(`${launch.pending.join('\n')}\n`);
    launch.pending.length = 0;
    launch.pendingBytes = 0;
  }

  #route(line: string): void {
    const item = this.#splitter.push(line);
    if (item.kind === 'record') {
      const launch = this.#launches.get(item.token);
      if (launch?.file) {
        launch.pending.push(item.line);
        launch.pendingBytes += item.line.length + 1;
      }
    } else if (item.kind === 'stop') {
      const launch = this.#launches.get(item.token);
      if (launch) {
        // Everything before the marker goes to the file before close() may end it.
        this.#flush(launch);
        launch.stops++;
        launch.onStop?.();
      }
    } else if (item.kind === 'lost') {
      // Lost events cannot be told apart by launch: every open launch may have lost them.
      for (const launch of this.#launches.values()) {
        launch.lost += item.count;
        if (launch.file) {
          launch.pending.push(line);
          launch.pendingBytes += line.length + 1;
        }
      }
    }
  }

  #armIdle(): void {
    this.#clearIdle();
    this.#idle = setTimeout(() => this.shutdown(), IDLE_MS);
    this.#idle.unref();
  }

  #clearIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
  }
}

let shared: BpftraceDaemon | null = null;

/** The process's bpftrace daemon (created on first use, started by its ready()). */
export function sharedBpftraceDaemon(): BpftraceDaemon {
  shared ??= new BpftraceDaemon();
  return shared;
}

const hooked = new WeakSet<BpftraceDaemon>();

/** bpftrace must not outlive pkghunt; if pkghunt is killed outright, its heartbeat hits a closed pipe. */
function _installExitHook(daemon: BpftraceDaemon): void {
  if (hooked.has(daemon)) return;
  hooked.add(daemon);
  process.on('exit', () => daemon.shutdown());
}

/** kill(target, 0): the handshake with pkghunt.bt (target is a token, never a process: ESRCH). */
function _signalZero(target: number): void {
  try {
    process.kill(target, 0);
  } catch {
    // ESRCH is the expected answer
  }
}

function _unrefStream(stream: Readable | null): void {
  (stream as (Readable & { unref?: () => void }) | null)?.unref?.();
}
