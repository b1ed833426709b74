/** Tokens are `key * 2^23 + n` (see pkghunt.bt): above any pid, so kill(TOKEN, 0) reaches no process. */
export const BPF_TOKEN_BASE = 8_388_608;

/** What one line of the long-lived bpftrace's output means. */
export type BpfOutputItem =
  | { kind: 'reference'; line: string }
  | { kind: 'record'; token: number; line: string }
  | { kind: 'registered'; token: number; pid: number }
  | { kind: 'stop'; token: number }
  | { kind: 'lost'; count: number }
  | { kind: 'ignored' };

const RECORD = /^(\d{7,10}) ([FXSADEYKZ])(?: |$)/;

/**
 * Splits the output of the long-lived bpftrace (src/adapters/tracer/pkghunt.bt) by launch token.
 * A line that does not start with a token continues the previous record (a string with a newline
 * in it) and goes where that record went. Lines of tokens that are not open (another pkghunt's
 * launch, or a launch already finished) are dropped with their continuations. Pure.
 */
export class BpfOutputSplitter {
  readonly #open = new Set<number>();
  #current: number | null = null;
  #reference: string | null = null;

  /** Starts routing the records of `token`. */
  open(token: number): void {
    this.#open.add(token);
  }

  /** Stops routing the records of `token`; its late lines are dropped. */
  close(token: number): void {
    this.#open.delete(token);
    if (this.#current === token) this.#current = null;
  }

  /** The BEGIN record (`0 R <nsecs> <epoch s> <usec>`), once seen. */
  get reference(): string | null {
    return this.#reference;
  }

  push(line: string): BpfOutputItem {
    if (line === '0 H') return { kind: 'ignored' };
    if (this.#reference === null && line.startsWith('0 R ')) {
      this.#reference = line;
      return { kind: 'reference', line };
    }
    const lost = /^Lost (\d+) events$/.exec(line);
    if (lost) return { kind: 'lost', count: Number(lost[1]) };
    const m = RECORD.exec(line);
    const token = Number(m?.[1] ?? 0);
    if (m && token >= BPF_TOKEN_BASE) {
      if (!this.#open.has(token)) {
        this.#current = null;
        return { kind: 'ignored' };
      }
      this.#current = token;
      if (m[2] === 'K') return { kind: 'registered', token, pid: Number(line.split(' ')[2] ?? 0) };
      if (m[2] === 'Z') return { kind: 'stop', token };
      return { kind: 'record', token, line };
    }
    if (this.#current === null) return { kind: 'ignored' };
    return { kind: 'record', token: this.#current, line };
  }
}

/** The time reference as the first line of one launch's trace file (the converter reads its token as the nonce). */
export function launchReference(reference: string, token: number): string {
  return `${token} ${reference.slice(2)}`;
}
