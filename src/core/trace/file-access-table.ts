import type { FileAccess, FileAreaSummary, FileOp } from '../record/schema.ts';
import { dirname } from './resolve-trace-path.ts';

export interface NoiseArea {
  area: string;
  prefixes: string[];
  /** 'reads': only read-only accesses (and execs) are summarised; anything else is reported in full. */
  kinds: 'all' | 'reads';
}

export interface FileTouch {
  path: string;
  ops: FileOp[];
  flags?: string[];
  error: string | null;
  pid: number;
}

const MAX_PIDS = 5;
const MAX_FLAGS = 16;
const MAX_ERRORS = 8;
const TOP_DIRS = 5;
const READ_LIKE = new Set<FileOp>(['read', 'exec']);

interface AreaState {
  count: number;
  writes: number;
  dirs: Map<string, number>;
}

/** Aggregates file touches per path (memory grows with distinct paths, not with trace length). */
export class FileAccessTable {
  readonly #files = new Map<string, FileAccess>();
  readonly #areas = new Map<string, AreaState>();
  readonly #noise: readonly NoiseArea[];
  readonly #sensitive: readonly string[];

  constructor(options: { noiseAreas: readonly NoiseArea[]; sensitivePaths: readonly string[] }) {
    this.#noise = options.noiseAreas;
    this.#sensitive = options.sensitivePaths;
    for (const n of options.noiseAreas) this.#areas.set(n.area, { count: 0, writes: 0, dirs: new Map() });
  }

  add(touch: FileTouch): void {
    const area = this.#areaOf(touch);
    if (area) {
      area.count++;
      if (touch.ops.some((op) => !READ_LIKE.has(op))) area.writes++;
      const dir = dirname(touch.path);
      area.dirs.set(dir, (area.dirs.get(dir) ?? 0) + 1);
      return;
    }
    let entry = this.#files.get(touch.path);
    if (!entry) {
      entry = { path: touch.path, ops: [], flags: [], count: 0, failed: 0, errors: [], pids: [] };
      this.#files.set(touch.path, entry);
    }
    entry.count++;
    for (const op of touch.ops) if (!entry.ops.includes(op)) entry.ops.push(op);
    for (const flag of touch.flags ?? []) {
      if (entry.flags.length < MAX_FLAGS && !entry.flags.includes(flag)) entry.flags.push(flag);
    }
    if (touch.error) entry.failed++;
    if (touch.error && entry.errors.length < MAX_ERRORS && !entry.errors.includes(touch.error)) {
      entry.errors.push(touch.error);
    }
    if (entry.pids.length < MAX_PIDS && !entry.pids.includes(touch.pid)) entry.pids.push(touch.pid);
  }

  files(): FileAccess[] {
    return [...this.#files.values()];
  }

  summary(): FileAreaSummary[] {
    const out: FileAreaSummary[] = [];
    for (const [area, state] of this.#areas) {
      if (state.count === 0) continue;
      const top_dirs = [...state.dirs]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, TOP_DIRS)
        .map(([dir, count]) => ({ dir, count }));
      out.push({ area, count: state.count, writes: state.writes, top_dirs });
    }
    return out;
  }

  #areaOf(touch: FileTouch): AreaState | undefined {
    // Relative paths (cwd unknown) and sensitive paths are always reported in full.
    if (!touch.path.startsWith('/')) return undefined;
    if (this.#sensitive.some((p) => touch.path.startsWith(p))) return undefined;
    const readOnly = touch.ops.every((op) => READ_LIKE.has(op));
    for (const n of this.#noise) {
      if (n.kinds === 'reads' && !readOnly) continue;
      if (n.prefixes.some((p) => touch.path.startsWith(p))) return this.#areas.get(n.area);
    }
    return undefined;
  }
}
