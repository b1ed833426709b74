import { parseStraceArgs } from './parse-strace-args.ts';
import { parseStraceLine, parseSyscallText } from './parse-strace-line.ts';
import type { JoinedStraceEvent, StraceParseFailure, SyscallEvent, UnfinishedEvent } from './strace-event.ts';

export type JoinedLine = JoinedStraceEvent | StraceParseFailure;

/**
 * Joins `<unfinished ...>` / `<... NAME resumed>` pairs per pid into whole syscalls. State is one
 * pending call per live pid, so memory does not grow with the trace length.
 */
export class StraceLineJoiner {
  readonly #pending = new Map<number, UnfinishedEvent>();

  /** Parses one line; returns 0..n complete events (a dangling unfinished call may be flushed first). */
  push(line: string): JoinedLine[] {
    return this.pushParsed(parseStraceLine(line), line);
  }

  /** Like push, for a line the caller already parsed with parseStraceLine (parsed once, not twice). */
  pushParsed(event: ReturnType<typeof parseStraceLine>, line: string): JoinedLine[] {
    if (event.type === 'unparsed') return [event];
    const out: JoinedLine[] = [];
    switch (event.type) {
      case 'unfinished':
        this.#flushPid(event.pid, out);
        this.#pending.set(event.pid, event);
        return out;
      case 'resumed': {
        const head = this.#pending.get(event.pid);
        if (!head || head.name !== event.name) {
          out.push({ type: 'unparsed', line, reason: `${event.name} resumed without its unfinished start` });
          return out;
        }
        this.#pending.delete(event.pid);
        out.push(parseSyscallText(head.head + event.tail, { pid: head.pid, time: head.time, line }));
        return out;
      }
      case 'syscall':
      case 'exit':
      case 'killed':
        this.#flushPid(event.pid, out);
        out.push(event);
        return out;
      default:
        out.push(event);
        return out;
    }
  }

  /** Calls still unfinished at the end of the trace, as syscalls without a result. */
  flush(): JoinedLine[] {
    const out: JoinedLine[] = [];
    for (const pid of [...this.#pending.keys()]) this.#flushPid(pid, out);
    return out;
  }

  #flushPid(pid: number, out: JoinedLine[]): void {
    const head = this.#pending.get(pid);
    if (!head) return;
    this.#pending.delete(pid);
    out.push(unfinishedToSyscall(head));
  }
}

/** A call the process never returned from (killed mid-call): its arguments still tell what it tried. */
function unfinishedToSyscall(head: UnfinishedEvent): SyscallEvent {
  const { args } = parseStraceArgs(head.head, head.name.length + 1);
  return { type: 'syscall', pid: head.pid, time: head.time, name: head.name, args, result: null };
}
