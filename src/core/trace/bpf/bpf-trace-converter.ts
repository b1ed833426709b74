import { formatIpv6, ipv4FromHex, ipv6BytesFromHex, portFromRaw } from './format-ip.ts';
import {
  renderBytes,
  renderCloneFlags,
  renderDirfd,
  renderOpenFlags,
  renderResult,
  renderSocketArgs,
  signalName,
} from './strace-syntax.ts';

/** bpftrace cuts str() at BPFTRACE_STRLEN - 1 bytes (the script's wrapper sets 200). */
export const BPF_STRING_LIMIT = 199;
/** Argv elements the script reads per exec. */
export const BPF_ARGV_LIMIT = 128;
/** Records held back to put events of different CPUs back in time order. */
const REORDER_WINDOW = 4096;
/** ...and how far back (ns) a late record may still be, at most. */
const REORDER_NS = 2_000_000_000;

interface Address {
  family: number;
  port: number;
  w0: string;
  w1: string;
  path: string;
}

interface Pending {
  strings: string[];
  address: Address | null;
  data: { bytes: string; ret: number } | null;
}

interface Timed {
  /** Nanoseconds after the time reference: exact as a number for 104 days of trace. */
  ns: number;
  seq: number;
  line: string;
}

/**
 * Turns the records of src/adapters/tracer/pkghunt.bt into strace `-f -ttt` lines, so that the
 * strace parser and TraceBehaviourBuilder build the behaviour (one model for both tracers).
 * Input lines are latin1 strings (one char per byte of the file). Pure: lines in, lines out.
 * Garbage becomes a line the strace parser cannot parse, which the builder counts as unparsed.
 */
export class BpfTraceConverter {
  #nonce: string | null = null;
  #prefix = '';
  #refNs = 0n;
  #refEpoch = 0;
  #record: string | null = null;
  #stopped = false;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();
  /** Held-back records in time order from #head on (a moving head: no O(n) shift per record). */
  readonly #window: Timed[] = [];
  #head = 0;
  #newest = Number.NEGATIVE_INFINITY;

  /** Feeds one line of the raw trace; returns the strace lines that are ready. */
  push(line: string): string[] {
    if (this.#stopped) return [];
    if (this.#nonce === null) {
      const m = /^(\d+) R (\d+) (\d+) (\d+)$/.exec(line);
      if (!m?.[1] || !m[2] || !m[3] || !m[4])
        return line.trim() === '' ? [] : [`bpftrace: no time reference: ${line}`];
      this.#nonce = m[1];
      this.#prefix = `${m[1]} `;
      this.#refNs = BigInt(m[2]);
      this.#refEpoch = Number(m[3]) + Number(m[4]) / 1e6;
      return [];
    }
    const lost = /^Lost (\d+) events$/.exec(line);
    if (lost) return [`bpftrace: lost ${lost[1]} events`];
    // A line without the nonce is the rest of a string that had a newline in it.
    if (!line.startsWith(this.#prefix) && line !== `${this.#nonce} K` && line !== `${this.#nonce} Z`) {
      if (this.#record !== null) this.#record += `\n${line}`;
      return [];
    }
    const out = this.#record === null ? [] : this.#handle(this.#record);
    this.#record = line;
    return out;
  }

  /** Returns every line still held back (call once, at the end of the trace). */
  finish(): string[] {
    const out = this.#record === null ? [] : this.#handle(this.#record);
    this.#record = null;
    for (let i = this.#head; i < this.#window.length; i++) out.push(this.#window[i]?.line ?? '');
    this.#window.length = 0;
    this.#head = 0;
    if (this.#nonce === null) out.push('bpftrace: the trace has no time reference (bpftrace did not start)');
    return out;
  }

  #handle(record: string): string[] {
    const body = record.slice(this.#prefix.length);
    const code = body[0];
    // bpftrace prints blank lines of its own after the last record: they end up glued to Z.
    if (body.trimEnd() === 'K') return [];
    if (body.trimEnd() === 'Z') {
      this.#stopped = true;
      return [];
    }
    const rest = body.slice(2);
    switch (code) {
      case 'S': {
        const [tid, str] = splitFields(rest, 1);
        if (tid !== undefined) this.#pendingOf(Number(tid[0])).strings.push(str);
        return [];
      }
      case 'A': {
        const [f, path] = splitFields(rest, 5);
        if (!f) return [`bpftrace: bad record: ${record}`];
        this.#pendingOf(Number(f[0])).address = {
          family: Number(f[1]),
          port: Number(f[2]),
          w0: f[3] ?? '0',
          w1: f[4] ?? '0',
          path,
        };
        return [];
      }
      case 'D': {
        const [f, escaped] = splitFields(rest, 2);
        if (!f) return [`bpftrace: bad record: ${record}`];
        this.#pendingOf(Number(f[0])).data = { bytes: unescapeBpfBuffer(escaped), ret: Number(f[1]) };
        return [];
      }
      case 'E':
      case 'Y':
      case 'F':
      case 'X':
        return this.#timed(code, rest, record);
      default:
        return [`bpftrace: bad record: ${record}`];
    }
  }

  #timed(code: 'E' | 'Y' | 'F' | 'X', rest: string, record: string): string[] {
    const counts = { E: 4, Y: 9, F: 5, X: 4 } as const;
    const [f, str] = splitFields(rest, counts[code]);
    if (!f || !/^\d+$/.test(f[0] ?? '')) return [`bpftrace: bad record: ${record}`];
    const ns = Number(BigInt(f[0] ?? '0') - this.#refNs);
    const tid = Number(f[1]);
    const pid = Number(f[2]);
    const nums = f.slice(3).map(Number);
    const pending = this.#pending.get(tid) ?? { strings: [], address: null, data: null };
    this.#pending.delete(tid);
    let text: string | null;
    if (code === 'E') text = renderExec(str, nums[0] ?? 0, pending.strings);
    else if (code === 'F')
      text = `clone(child_stack=NULL, flags=${renderCloneFlags(BigInt(f[4] ?? '0'))}) = ${nums[0]}`;
    else if (code === 'X') text = renderExit(nums[0] ?? 0);
    else text = renderSyscall(nums, str, pending);
    if (text === null) return [];
    const seconds = this.#refEpoch + ns / 1e9;
    const line = `${pid} ${seconds.toFixed(6)} ${text}`;
    return this.#reorder({ ns, seq: this.#seq++, line });
  }

  #pendingOf(tid: number): Pending {
    let p = this.#pending.get(tid);
    if (!p) {
      p = { strings: [], address: null, data: null };
      this.#pending.set(tid, p);
    }
    return p;
  }

  #reorder(item: Timed): string[] {
    const w = this.#window;
    let i = w.length;
    while (i > this.#head && (w[i - 1]?.ns ?? 0) > item.ns) i--;
    if (i === w.length) w.push(item);
    else w.splice(i, 0, item);
    if (item.ns > this.#newest) this.#newest = item.ns;
    const out: string[] = [];
    while (
      w.length > this.#head &&
      (w.length - this.#head > REORDER_WINDOW || (w[this.#head]?.ns ?? 0) < this.#newest - REORDER_NS)
    ) {
      out.push(w[this.#head]?.line ?? '');
      this.#head++;
    }
    if (this.#head >= REORDER_WINDOW) {
      w.splice(0, this.#head);
      this.#head = 0;
    }
    return out;
  }
}

/** Splits `count` space-separated fields off the front; the rest (spaces and newlines kept) is a string. */
function splitFields(text: string, count: number): [string[] | undefined, string] {
  const fields: string[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const next = text.indexOf(' ', pos);
    if (next < 0) {
      if (i === count - 1 && pos < text.length) {
        fields.push(text.slice(pos));
        return [fields, ''];
      }
      return [undefined, ''];
    }
    fields.push(text.slice(pos, next));
    pos = next + 1;
  }
  return [fields, text.slice(pos)];
}

/** bpftrace's %r: printable bytes as is, the others as \xNN. */
function unescapeBpfBuffer(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function str(value: string): string {
  return renderBytes(value, { truncated: value.length >= BPF_STRING_LIMIT });
}

function renderExec(filename: string, argc: number, argv: readonly string[]): string {
  const items = callerArgv(filename, argv).map(str);
  if (argc > argv.length) items.push('...');
  return `execve(${str(filename)}, [${items.join(', ')}], 0x0 /* 0 vars */) = 0`;
}

/**
 * The argv the caller passed, as strace shows it. The script reads argv from the new image, and
 * for a `#!` script the kernel has replaced the caller's argv[0] with the interpreter (and its
 * optional argument) followed by the script's path: `/bin/sh /usr/bin/lsb_release -a` for
 * execve("/usr/bin/lsb_release", ["lsb_release", "-a"]). The caller's argv[0] is lost: the path stands in.
 */
function callerArgv(filename: string, argv: readonly string[]): readonly string[] {
  if (argv[0] === filename) return argv;
  const at = argv[1] === filename ? 1 : argv[2] === filename ? 2 : -1;
  return at < 0 ? argv : [filename, ...argv.slice(at + 1)];
}

function renderExit(code: number): string {
  const signal = code & 0x7f;
  if (signal === 0) return `+++ exited with ${(code >> 8) & 0xff} +++`;
  return `+++ killed by ${signalName(signal)}${code & 0x80 ? ' (core dumped)' : ''} +++`;
}

function renderAddress(a: Address | null): string {
  if (a === null) return 'NULL';
  if (a.family === 2) {
    return `{sa_family=AF_INET, sin_port=htons(${portFromRaw(a.port)}), sin_addr=inet_addr("${ipv4FromHex(a.w0)}")}`;
  }
  if (a.family === 10) {
    const ip = formatIpv6(ipv6BytesFromHex(a.w0, a.w1));
    return `{sa_family=AF_INET6, sin6_port=htons(${portFromRaw(a.port)}), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "${ip}", &sin6_addr), sin6_scope_id=0}`;
  }
  if (a.family === 1) return `{sa_family=AF_UNIX, sun_path=${a.port === 1 ? '@' : ''}${str(a.path)}}`;
  return `{sa_family=${a.family}}`;
}

function renderData(data: Pending['data'], length: number): string {
  if (data === null) return 'NULL';
  return renderBytes(data.bytes, { truncated: data.bytes.length < length });
}

function mode(value: number): string {
  return `0${(value >>> 0).toString(8)}`;
}

/** `name(args) = result` for a Y record (x86_64 syscall numbers); null for numbers the script does not send. */
function renderSyscall(nums: readonly number[], path: string, pending: Pending): string | null {
  const [nr = -1, ret = 0, a0 = 0, a1 = 0, a2 = 0, a3 = 0] = nums;
  const r = renderResult(ret);
  const p = str(path);
  const first = str(pending.strings[0] ?? '');
  switch (nr) {
    case 2:
      return `open(${p}, ${renderOpenFlags(a1)}) ${r}`;
    case 85:
      return `creat(${p}, ${mode(a1)}) ${r}`;
    case 257:
      return `openat(${renderDirfd(a0)}, ${p}, ${renderOpenFlags(a2)}) ${r}`;
    case 59:
      return `execve(${p}, [], 0x0 /* 0 vars */) ${r}`;
    case 322:
      return `execveat(${renderDirfd(a0)}, ${p}, [], 0x0, 0) ${r}`;
    case 87:
      return `unlink(${p}) ${r}`;
    case 263:
      return `unlinkat(${renderDirfd(a0)}, ${p}, ${a2 & 0x200 ? 'AT_REMOVEDIR' : '0'}) ${r}`;
    case 82:
      return `rename(${first}, ${p}) ${r}`;
    case 264:
      return `renameat(${renderDirfd(a0)}, ${first}, ${renderDirfd(a2)}, ${p}) ${r}`;
    case 316:
      return `renameat2(${renderDirfd(a0)}, ${first}, ${renderDirfd(a2)}, ${p}, 0) ${r}`;
    case 90:
      return `chmod(${p}, ${mode(a1)}) ${r}`;
    case 268:
      return `fchmodat(${renderDirfd(a0)}, ${p}, ${mode(a2)}) ${r}`;
    case 83:
      return `mkdir(${p}, ${mode(a1)}) ${r}`;
    case 258:
      return `mkdirat(${renderDirfd(a0)}, ${p}, ${mode(a2)}) ${r}`;
    case 88:
      return `symlink(${first}, ${p}) ${r}`;
    case 266:
      return `symlinkat(${first}, ${renderDirfd(a1)}, ${p}) ${r}`;
    case 80:
      return `chdir(${p}) ${r}`;
    case 81:
      return `fchdir(${a0}) ${r}`;
    case 62:
      return `kill(${a0}, ${signalName(a1)}) ${r}`;
    case 200:
      return `tkill(${a0}, ${signalName(a1)}) ${r}`;
    case 234:
      return `tgkill(${a0}, ${a1}, ${signalName(a2)}) ${r}`;
    case 41:
      return `socket(${renderSocketArgs(a0, a1, a2)}) ${r}`;
    case 42:
      return `connect(${a0}, ${renderAddress(pending.address)}, 16) ${r}`;
    case 49:
      return `bind(${a0}, ${renderAddress(pending.address)}, 16) ${r}`;
    case 44:
      return `sendto(${a0}, ${renderData(pending.data, a2)}, ${a2}, 0, ${renderAddress(pending.address)}, 16) ${r}`;
    case 46: {
      const iov = `[{iov_base=${renderData(pending.data, a3)}, iov_len=${a3}}]`;
      return `sendmsg(${a0}, {msg_name=${renderAddress(pending.address)}, msg_namelen=16, msg_iov=${iov}, msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) ${r}`;
    }
    default:
      return null;
  }
}
