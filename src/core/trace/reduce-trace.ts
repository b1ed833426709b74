import type { NoiseArea } from './file-access-table.ts';
import { parseStraceLine } from './parse-strace-line.ts';
import { resolveTracePath } from './resolve-trace-path.ts';
import type { StraceValue, SyscallEvent } from './strace-event.ts';
import { StraceLineJoiner } from './strace-line-joiner.ts';

export interface ReduceTraceOptions {
  /** The same areas the record summarises (src/app/assemble-phase.ts NOISE_AREAS). */
  noiseAreas: readonly NoiseArea[];
  /** Never dropped, even inside a noise area. */
  sensitivePaths: readonly string[];
}

const OPENS = new Set(['open', 'openat', 'creat']);
const FORKS = new Set(['clone', 'clone3', 'fork', 'vfork']);
/** Calls whose every path argument (index -> its dirfd index or null) must be noise to drop them. */
const PATH_CALLS: Record<string, readonly (readonly [number, number | null])[]> = {
  unlink: [[0, null]],
  unlinkat: [[1, 0]],
  rename: [
    [0, null],
    [1, null],
  ],
  renameat: [
    [1, 0],
    [3, 2],
  ],
  renameat2: [
    [1, 0],
    [3, 2],
  ],
  chmod: [[0, null]],
  fchmodat: [[1, 0]],
  mkdir: [[0, null]],
  mkdirat: [[1, 0]],
};

function rawText(value: StraceValue | undefined): string {
  if (value === undefined) return '';
  if (value.kind === 'raw') return value.text;
  if (value.kind === 'field') return rawText(value.value);
  return '';
}

/**
 * Drops the strace lines whose only effect on the behaviour is a count in `file_summary`: file
 * accesses inside the noise areas (reads under the sandbox's Python and system dirs, pip's own
 * venv and scratch writes), which are most of a trace. Every other line is kept as it was:
 * execve, clone, chdir, socket, connect, sendto, kill, exits and signals, accesses outside the
 * noise areas (failed ones too) and anything it cannot parse. `TraceBehaviourBuilder` gives the
 * same commands, processes, non-noise files, connections and sends from the reduced trace; only
 * the noise areas' counts shrink.
 *
 * Descriptors are followed like the builder does (threads share a table, a fork copies it): a
 * `*at(dirfd, "relative")` through a descriptor whose open was dropped is dropped too when it
 * resolves into a noise area, and kept otherwise (the builder then marks it `dirfd-unknown`, as
 * it does when strace never showed the descriptor's open).
 */
export class TraceReducer {
  readonly #options: ReduceTraceOptions;
  /** tid -> its process's descriptors: the path when the open was dropped, else null. */
  readonly #fds = new Map<number, Map<number, string | null>>();
  /** Joins unfinished/resumed halves, to learn the pids clone() returns. */
  readonly #joiner = new StraceLineJoiner();
  /** tid -> syscall name of an unfinished line that was dropped (its resumed half goes too). */
  readonly #droppedUnfinished = new Map<number, string>();
  readonly stats = { lines: 0, kept: 0 };

  constructor(options: ReduceTraceOptions) {
    this.#options = options;
  }

  /** Whether to keep this line (in order: the reducer follows descriptors and unfinished calls). */
  keep(line: string): boolean {
    return line.trim() !== '' && this.keepParsed(parseStraceLine(line), line);
  }

  /** Like keep, for a line the caller already parsed with parseStraceLine (parsed once, not twice). */
  keepParsed(event: ReturnType<typeof parseStraceLine>, line: string): boolean {
    if (line.trim() === '') return false;
    this.stats.lines++;
    this.#follow(event, line);
    const keep = !this.#droppable(event);
    if (keep) this.stats.kept++;
    return keep;
  }

  #table(tid: number): Map<number, string | null> {
    let table = this.#fds.get(tid);
    if (table === undefined) {
      table = new Map();
      this.#fds.set(tid, table);
    }
    return table;
  }

  /** Process-tree bookkeeping: a thread shares its parent's descriptors, a child gets a copy. */
  #follow(event: ReturnType<typeof parseStraceLine>, line: string): void {
    for (const e of this.#joiner.pushParsed(event, line)) {
      if (e.type === 'exit' || e.type === 'killed') this.#fds.delete(e.pid);
      if (e.type !== 'syscall' || !FORKS.has(e.name)) continue;
      const child = e.result?.value;
      if (child === null || child === undefined || child <= 0) continue;
      const parent = this.#table(e.pid);
      this.#fds.set(child, JSON.stringify(e.args).includes('CLONE_THREAD') ? parent : new Map(parent));
    }
  }

  #droppable(event: ReturnType<typeof parseStraceLine>): boolean {
    if (event.type === 'unfinished') {
      const joined = parseStraceLine(`${event.pid} ${event.time} ${event.head}) = 0`);
      // The result is unknown yet: only calls whose drop does not depend on it (no new descriptor).
      if (joined.type === 'syscall' && !OPENS.has(joined.name) && this.#noiseCall(joined)) {
        this.#droppedUnfinished.set(event.pid, event.name);
        return true;
      }
      return false;
    }
    if (event.type === 'resumed') {
      const name = this.#droppedUnfinished.get(event.pid);
      this.#droppedUnfinished.delete(event.pid);
      return name === event.name;
    }
    if (event.type !== 'syscall') return false;
    const drop = this.#noiseCall(event);
    const fd = event.result?.value;
    if (fd !== null && fd !== undefined && fd >= 0 && (OPENS.has(event.name) || event.name === 'socket')) {
      this.#table(event.pid).set(fd, drop && OPENS.has(event.name) ? this.#openPath(event) : null);
    }
    return drop;
  }

  #noiseCall(e: SyscallEvent): boolean {
    if (OPENS.has(e.name)) {
      const path = this.#openPath(e);
      if (path === null) return false;
      const flags =
        e.name === 'creat'
          ? ['O_WRONLY', 'O_CREAT']
          : rawText(e.args[e.name === 'openat' ? 2 : 1]).split('|');
      const readOnly = !flags.some((f) => f === 'O_WRONLY' || f === 'O_RDWR' || f === 'O_CREAT');
      return this.#isNoise(path, readOnly);
    }
    const spec = PATH_CALLS[e.name];
    if (spec === undefined) return false;
    return spec.every(([index, dirfd]) => {
      const path = this.#resolve(e, index, dirfd);
      return path !== null && this.#isNoise(path, false);
    });
  }

  #openPath(e: SyscallEvent): string | null {
    return e.name === 'openat' ? this.#resolve(e, 1, 0) : this.#resolve(e, 0, null);
  }

  /** The absolute path of argument `index`, or null when it cannot be known for sure. */
  #resolve(e: SyscallEvent, index: number, dirfdIndex: number | null): string | null {
    const arg = e.args[index];
    if (arg?.kind !== 'string' || arg.truncated) return null;
    if (arg.value.startsWith('/')) return resolveTracePath(null, arg.value);
    if (dirfdIndex === null) return null;
    const dirfd = rawText(e.args[dirfdIndex]);
    if (!/^\d+$/.test(dirfd)) return null;
    const base = this.#table(e.pid).get(Number(dirfd));
    if (base === undefined || base === null) return null;
    return resolveTracePath(base, arg.value);
  }

  /** FileAccessTable's rule: absolute, not sensitive, and in an area that summarises this kind of access. */
  #isNoise(path: string, readOnly: boolean): boolean {
    if (!path.startsWith('/')) return false;
    if (this.#options.sensitivePaths.some((p) => path.startsWith(p))) return false;
    return this.#options.noiseAreas.some(
      (n) => (n.kinds === 'all' || readOnly) && n.prefixes.some((p) => path.startsWith(p)),
    );
  }
}

/** The kept lines of a whole trace (see TraceReducer to stream). */
export function reduceTrace(lines: Iterable<string>, options: ReduceTraceOptions): string[] {
  const reducer = new TraceReducer(options);
  const kept: string[] = [];
  for (const line of lines) if (reducer.keep(line)) kept.push(line);
  return kept;
}
