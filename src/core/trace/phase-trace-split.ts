/**
 * Splits the strace lines of a two-phase launch (install, then import, one runner: see the
 * sandbox's runInstallThenImport) into the two phases' traces. The boundary is the runner's own
 * open of the phase mark (a path that does not exist), made after the install phase's processes
 * were killed and reaped: every install line is before it. Only the runner's pid counts: a
 * package that opens the same path moves nothing.
 */
const PREFIX = /^(\d+)\s+(\d+(?:\.\d+)?)\s+(.*)$/;

export type PhasePart = 'install' | 'mark' | 'import';

export class PhaseTraceSplit {
  readonly #exec: string;
  readonly #open: string;
  readonly #runnerPath: string;
  #runnerPid: number | null = null;
  #markTime: string | null = null;
  /** The mark's open was split (`<unfinished ...>`): its resumption is part of the mark. */
  #markResumes = false;

  constructor(options: { runnerPath: string; phaseMark: string }) {
    this.#runnerPath = options.runnerPath;
    this.#exec = `execve(${JSON.stringify(options.runnerPath)}`;
    this.#open = `openat(AT_FDCWD, ${JSON.stringify(options.phaseMark)}`;
  }

  /** Whether the mark was seen. */
  get marked(): boolean {
    return this.#markTime !== null;
  }

  /** Where one line belongs, in file order. */
  place(line: string): PhasePart {
    const m = PREFIX.exec(line);
    if (this.#markTime !== null) {
      if (this.#markResumes && m !== null && Number(m[1]) === this.#runnerPid) {
        this.#markResumes = false;
        if (m[3]?.startsWith('<... openat resumed>')) return 'mark';
      }
      return 'import';
    }
    if (m === null) return 'install';
    const pid = Number(m[1]);
    const rest = m[3] ?? '';
    if (this.#runnerPid === null) {
      if (rest.startsWith(this.#exec)) this.#runnerPid = pid;
      return 'install';
    }
    if (pid === this.#runnerPid && rest.startsWith(this.#open)) {
      this.#markTime = m[2] ?? '0';
      this.#markResumes = rest.endsWith('<unfinished ...>');
      return 'mark';
    }
    return 'install';
  }

  /**
   * The import part's first line: the runner, as if it had just started again (the trace parser
   * finds its root by the runner's exec). Null before the mark.
   */
  importPreamble(): string | null {
    if (this.#markTime === null || this.#runnerPid === null) return null;
    const path = JSON.stringify(this.#runnerPath);
    return `${this.#runnerPid} ${this.#markTime} execve(${path}, [${path}, "import"], 0x0 /* 0 vars */) = 0`;
  }
}
