import type { Command, FileOp } from '../record/schema.ts';
import { bytesToPreview, straceStringBytes } from './decode-strace-string.ts';
import { FileAccessTable, type FileTouch } from './file-access-table.ts';
import { parseStraceLine } from './parse-strace-line.ts';
import { findField, readSockaddr, type SocketAddress } from './read-sockaddr.ts';
import { resolveTracePath } from './resolve-trace-path.ts';
import type { JoinedStraceEvent, StraceValue, SyscallEvent } from './strace-event.ts';
import { StraceLineJoiner } from './strace-line-joiner.ts';
import type {
  BehaviourOptions,
  KillAttempt,
  NetBind,
  NetConnect,
  NetSend,
  TraceBehaviour,
  TracedProcess,
  UnixConnect,
} from './trace-behaviour.ts';

type FdInfo =
  | { kind: 'path'; path: string }
  | { kind: 'socket'; protocol: 'tcp' | 'udp' | null; peer: { ip: string; port: number } | null };

interface Proc {
  /** Thread-group id: threads share this object. */
  pid: number;
  ppid: number | null;
  inTree: boolean;
  isRoot: boolean;
  exe?: string;
  argv?: string[];
  /** Working directory at its last execve (at its creation until it execs): attribution reads it. */
  startCwd: string | null;
  start: number;
  end: number | null;
  exit: string | null;
  fs: { cwd: string | null };
  fds: Map<number, FdInfo>;
}

const MAX_BUFFERED_PER_PID = 512;
const MAX_BUFFERED_PIDS = 1024;
const FORKS = new Set(['clone', 'clone3', 'fork', 'vfork']);
const SEND_PREVIEW_BYTES = 4096;

/**
 * Turns strace lines into a TraceBehaviour, one line at a time. Memory grows with the number of
 * distinct paths and live processes, and each event list is capped (maxListItems).
 */
export class TraceBehaviourBuilder {
  readonly #opts: BehaviourOptions;
  readonly #joiner = new StraceLineJoiner();
  readonly #table: FileAccessTable;
  readonly #max: number;
  /** tid -> process (threads map to their group's object). */
  readonly #tids = new Map<number, Proc>();
  /** Events of pids whose creating clone() has not returned yet (strace prints the child first). */
  readonly #buffered = new Map<number, JoinedStraceEvent[]>();
  #first = true;
  #root: Proc | null = null;
  readonly #tree: Proc[] = [];
  readonly #commands: Command[] = [];
  readonly #connects: NetConnect[] = [];
  readonly #unix: UnixConnect[] = [];
  readonly #binds: NetBind[] = [];
  readonly #sends: NetSend[] = [];
  readonly #kills: KillAttempt[] = [];
  readonly #stats = { lines: 0, parsed: 0, unparsed: 0, firstUnparsed: [] as string[], dropped: 0 };

  constructor(options: BehaviourOptions) {
    this.#opts = options;
    this.#max = options.maxListItems ?? 10_000;
    this.#table = new FileAccessTable({
      noiseAreas: options.noiseAreas ?? [],
      sensitivePaths: options.sensitivePaths ?? [],
    });
  }

  push(line: string): void {
    if (line.trim() !== '') this.pushParsed(parseStraceLine(line), line);
  }

  /** Like push, for a line the caller already parsed with parseStraceLine (parsed once, not twice). */
  pushParsed(parsed: ReturnType<typeof parseStraceLine>, line: string): void {
    if (line.trim() === '') return;
    this.#stats.lines++;
    for (const event of this.#joiner.pushParsed(parsed, line)) {
      if (event.type === 'unparsed') {
        this.#stats.unparsed++;
        if (this.#stats.firstUnparsed.length < 5) this.#stats.firstUnparsed.push(event.line);
        continue;
      }
      this.#stats.parsed++;
      this.#dispatch(event);
    }
  }

  finish(): TraceBehaviour {
    for (const event of this.#joiner.flush()) if (event.type !== 'unparsed') this.#dispatch(event);
    // Pids whose parent never reported them: adopt as orphans so root detection still works.
    for (const pid of [...this.#buffered.keys()]) this.#adoptOrphan(pid);
    const root = this.#root;
    const rootEnd = root?.end ?? null;
    const processes: TracedProcess[] = this.#tree.map((p) => ({
      pid: p.pid,
      ppid: p.ppid,
      ...(p.exe === undefined ? {} : { exe: p.exe }),
      ...(p.argv === undefined ? {} : { argv: p.argv }),
      cwd: p.startCwd,
      start: this.#rel(p.start),
      end: p.end === null ? null : this.#rel(p.end),
      exit: p.exit,
    }));
    const survivors = this.#tree
      .filter((p) => p.end === null || (rootEnd !== null && p.end > rootEnd))
      .map((p) => ({ pid: p.pid, argv: p.argv ?? [] }));
    return {
      rootPid: root?.pid ?? null,
      commands: this.#commands,
      files: this.#table.files(),
      file_summary: this.#table.summary(),
      connects: this.#connects,
      unixConnects: this.#unix,
      binds: this.#binds,
      sends: this.#sends,
      kills: this.#kills,
      processes,
      survivors,
      processCount: this.#tree.length,
      stats: { ...this.#stats, firstUnparsed: [...this.#stats.firstUnparsed] },
    };
  }

  #dispatch(event: JoinedStraceEvent): void {
    if (this.#first) {
      this.#first = false;
      const top = this.#register(event.pid, null, event.time);
      if (this.#opts.runnerPath === undefined && this.#opts.rootExe === undefined) this.#makeRoot(top);
    }
    const proc = this.#live(event.pid);
    if (!proc) {
      this.#buffer(event);
      return;
    }
    this.#apply(proc, event);
  }

  /** The live process for a tid; an exited one is stale (its pid may be reused by a new child). */
  #live(tid: number): Proc | undefined {
    const proc = this.#tids.get(tid);
    return proc && proc.end === null ? proc : undefined;
  }

  #buffer(event: JoinedStraceEvent): void {
    let list = this.#buffered.get(event.pid);
    if (!list) {
      if (this.#buffered.size >= MAX_BUFFERED_PIDS) {
        const oldest = this.#buffered.keys().next().value;
        if (oldest !== undefined) this.#adoptOrphan(oldest);
      }
      list = [];
      this.#buffered.set(event.pid, list);
    }
    list.push(event);
    if (list.length >= MAX_BUFFERED_PER_PID) this.#adoptOrphan(event.pid);
  }

  #adoptOrphan(pid: number): void {
    const list = this.#buffered.get(pid);
    this.#buffered.delete(pid);
    if (!list?.[0]) return;
    const proc = this.#register(pid, null, list[0].time);
    for (const e of list) this.#apply(proc, e);
  }

  #register(pid: number, parent: Proc | null, time: number, thread = false, shareFs = false): Proc {
    if (parent && thread) {
      this.#tids.set(pid, parent);
      return parent;
    }
    const inTree = parent !== null && (parent.inTree || parent.isRoot);
    const proc: Proc = {
      pid,
      ppid: parent?.pid ?? null,
      inTree,
      isRoot: false,
      ...(parent?.exe === undefined ? {} : { exe: parent.exe }),
      ...(parent?.argv === undefined ? {} : { argv: parent.argv }),
      startCwd: parent?.fs.cwd ?? null,
      start: time,
      end: null,
      exit: null,
      fs: parent ? (shareFs ? parent.fs : { cwd: parent.fs.cwd }) : { cwd: null },
      fds: parent ? new Map(parent.fds) : new Map(),
    };
    this.#tids.set(pid, proc);
    if (inTree) {
      if (this.#tree.length < this.#max) this.#tree.push(proc);
      else this.#stats.dropped++;
    }
    return proc;
  }

  #apply(proc: Proc, event: JoinedStraceEvent): void {
    switch (event.type) {
      case 'syscall':
        this.#syscall(proc, event);
        return;
      case 'exit':
      case 'killed':
        if (event.pid !== proc.pid) {
          this.#tids.delete(event.pid);
          return;
        }
        proc.end = event.time;
        proc.exit = event.type === 'exit' ? `exited with ${event.code}` : `killed by ${event.signal}`;
        // Its descriptors can no longer be used: free them (a fork bomb must not keep one table each).
        proc.fds = new Map();
        if (!proc.inTree && !proc.isRoot) this.#forget(proc);
        return;
      default:
        return;
    }
  }

  /** Processes outside the tree are only kept while alive: plumbing must not cost memory. */
  #forget(proc: Proc): void {
    for (const [tid, p] of this.#tids) if (p === proc && tid !== proc.pid) this.#tids.delete(tid);
  }

  #syscall(proc: Proc, e: SyscallEvent): void {
    if (FORKS.has(e.name)) {
      this.#fork(proc, e);
      return;
    }
    if (e.name === 'execve' || e.name === 'execveat') {
      this.#exec(proc, e);
      return;
    }
    if (e.name === 'chdir' || e.name === 'fchdir') {
      if (e.result?.value !== 0) return;
      const arg = e.args[0];
      if (e.name === 'chdir')
        proc.fs.cwd = arg?.kind === 'string' ? resolveTracePath(proc.fs.cwd, arg.value) : null;
      else proc.fs.cwd = this.#fdPath(proc, arg);
      return;
    }
    if (e.name === 'socket') {
      this.#socket(proc, e);
      return;
    }
    const reported = proc.inTree;
    switch (e.name) {
      case 'open':
      case 'creat':
      case 'openat':
        this.#open(proc, e, reported);
        return;
      case 'connect':
      case 'sendto':
      case 'sendmsg':
      case 'sendmmsg':
      case 'bind':
        if (reported) this.#net(proc, e);
        else this.#trackPeer(proc, e);
        return;
      case 'kill':
      case 'tkill':
      case 'tgkill':
        if (reported) this.#kill(e);
        return;
      default:
        if (reported) this.#fileOp(proc, e);
    }
  }

  #fork(parent: Proc, e: SyscallEvent): void {
    const child = e.result?.value;
    if (child === null || child === undefined || child <= 0) return;
    const flags =
      e.name === 'clone3' ? rawText(findField(e.args[0], 'flags')) : rawText(namedArg(e.args, 'flags'));
    const thread = flags.includes('CLONE_THREAD');
    const proc = this.#register(child, parent, e.time, thread, flags.includes('CLONE_FS'));
    const waiting = this.#buffered.get(child);
    if (waiting) {
      this.#buffered.delete(child);
      for (const ev of waiting) this.#apply(proc, ev);
    }
  }

  #exec(proc: Proc, e: SyscallEvent): void {
    const at = e.name === 'execveat';
    const pathArg = e.args[at ? 1 : 0];
    const argvArg = e.args[at ? 2 : 1];
    const path = pathArg?.kind === 'string' ? pathArg.value : '';
    const resolved = this.#resolve(proc, at ? e.args[0] : undefined, path);
    const ok = e.result?.value === 0;
    if (!ok) {
      // Failed attempts while searching PATH are noise; other failures (EACCES) are worth seeing.
      if (proc.inTree && e.result?.error && e.result.error !== 'ENOENT') {
        this.#touch(proc, resolved, ['exec'], e.result.error);
      }
      return;
    }
    const argv = argvArg?.kind === 'array' ? argvArg.items.map(valueText) : [];
    proc.exe = resolved.path;
    proc.argv = argv;
    proc.startCwd = proc.fs.cwd;
    if (!this.#root && this.#isRoot(resolved.path, argv)) {
      this.#makeRoot(proc);
      return;
    }
    if (!proc.inTree) return;
    this.#push(this.#commands, {
      argv,
      cwd: proc.fs.cwd,
      pid: proc.pid,
      ppid: proc.ppid,
      time: this.#rel(e.time),
      exe: resolved.path,
    });
    this.#touch(proc, resolved, ['exec'], null);
  }

  #isRoot(exe: string, argv: string[]): boolean {
    const { runnerPath, rootExe } = this.#opts;
    // The runner is the script an interpreter runs (argv[1]); the launchers before it (bash, ip,
    // setpriv, bwrap) also carry its path in their argv, further along, and must not match.
    if (runnerPath !== undefined && (argv[1] === runnerPath || exe === runnerPath)) return true;
    return rootExe !== undefined && exe === rootExe;
  }

  /** Without a root rule the first traced process is the root: everything it spawns counts. */
  #makeRoot(proc: Proc): void {
    this.#root = proc;
    proc.isRoot = true;
    proc.inTree = false;
    // The sandbox chdir'ed it before exec; the host-side cwd we may have tracked means nothing inside.
    proc.fs = { cwd: this.#opts.initialCwd ?? null };
  }

  #socket(proc: Proc, e: SyscallEvent): void {
    const fd = e.result?.value;
    if (fd === null || fd === undefined || fd < 0) return;
    const domain = rawText(e.args[0]);
    const type = rawText(e.args[1]);
    let protocol: 'tcp' | 'udp' | null = null;
    if (domain === 'AF_INET' || domain === 'AF_INET6') {
      if (type.includes('SOCK_STREAM')) protocol = 'tcp';
      else if (type.includes('SOCK_DGRAM')) protocol = 'udp';
    }
    proc.fds.set(fd, { kind: 'socket', protocol, peer: null });
  }

  #open(proc: Proc, e: SyscallEvent, reported: boolean): void {
    const at = e.name === 'openat';
    const pathArg = e.args[at ? 1 : 0];
    if (pathArg?.kind !== 'string') return;
    const resolved = this.#resolve(proc, at ? e.args[0] : undefined, pathArg.value, pathArg.truncated);
    const fd = e.result?.value;
    if (fd !== null && fd !== undefined && fd >= 0 && resolved.path.startsWith('/')) {
      proc.fds.set(fd, { kind: 'path', path: resolved.path });
    }
    if (!reported) return;
    const flagText = e.name === 'creat' ? 'O_WRONLY|O_CREAT|O_TRUNC' : rawText(e.args[at ? 2 : 1]);
    const flags = flagText.split('|');
    const ops: FileOp[] = [];
    if (flags.includes('O_WRONLY') || flags.includes('O_RDWR')) ops.push('write');
    else ops.push('read');
    if (flags.includes('O_CREAT')) ops.push('create');
    this.#touch(proc, { ...resolved, flags: [...resolved.flags, flagText] }, ops, e.result?.error ?? null);
  }

  #fileOp(proc: Proc, e: SyscallEvent): void {
    const a = e.args;
    const err = e.result?.error ?? null;
    const str = (i: number) => {
      const v = a[i];
      return v?.kind === 'string' ? v : null;
    };
    switch (e.name) {
      case 'unlink':
      case 'unlinkat': {
        const at = e.name === 'unlinkat';
        const p = str(at ? 1 : 0);
        if (!p) return;
        const r = this.#resolve(proc, at ? a[0] : undefined, p.value, p.truncated);
        if (at && rawText(a[2]).includes('AT_REMOVEDIR')) r.flags.push('rmdir');
        this.#touch(proc, r, ['delete'], err);
        return;
      }
      case 'rename':
      case 'renameat':
      case 'renameat2': {
        const at = e.name !== 'rename';
        const from = str(at ? 1 : 0);
        const to = str(at ? 3 : 1);
        if (!from || !to) return;
        const src = this.#resolve(proc, at ? a[0] : undefined, from.value, from.truncated);
        const dst = this.#resolve(proc, at ? a[2] : undefined, to.value, to.truncated);
        this.#touch(
          proc,
          { path: src.path, flags: [...src.flags, `renamed-to:${dst.path}`] },
          ['rename'],
          err,
        );
        this.#touch(
          proc,
          { path: dst.path, flags: [...dst.flags, `renamed-from:${src.path}`] },
          ['create'],
          err,
        );
        return;
      }
      case 'chmod':
      case 'fchmodat': {
        const at = e.name === 'fchmodat';
        const p = str(at ? 1 : 0);
        if (!p) return;
        const r = this.#resolve(proc, at ? a[0] : undefined, p.value, p.truncated);
        r.flags.push(`mode ${rawText(a[at ? 2 : 1])}`);
        this.#touch(proc, r, ['chmod'], err);
        return;
      }
      case 'mkdir':
      case 'mkdirat': {
        const at = e.name === 'mkdirat';
        const p = str(at ? 1 : 0);
        if (!p) return;
        const r = this.#resolve(proc, at ? a[0] : undefined, p.value, p.truncated);
        r.flags.push('mkdir');
        this.#touch(proc, r, ['create'], err);
        return;
      }
      case 'symlink':
      case 'symlinkat': {
        const at = e.name === 'symlinkat';
        const target = str(0);
        const link = str(at ? 2 : 1);
        if (!target || !link) return;
        const r = this.#resolve(proc, at ? a[1] : undefined, link.value, link.truncated);
        r.flags.push(`symlink-to:${target.value}`);
        this.#touch(proc, r, ['create'], err);
        return;
      }
      default:
        return;
    }
  }

  #trackPeer(proc: Proc, e: SyscallEvent): void {
    if (e.name !== 'connect' || e.result?.error) return;
    const addr = readSockaddr(e.args[1]);
    const fd = fdNumber(e.args[0]);
    if (addr && 'ip' in addr && fd !== null) this.#setPeer(proc, fd, addr);
  }

  #setPeer(proc: Proc, fd: number, addr: { ip: string; port: number }): void {
    const info = proc.fds.get(fd);
    const protocol = info?.kind === 'socket' ? info.protocol : null;
    proc.fds.set(fd, { kind: 'socket', protocol, peer: { ip: addr.ip, port: addr.port } });
  }

  #net(proc: Proc, e: SyscallEvent): void {
    const fd = fdNumber(e.args[0]);
    const sock = fd === null ? undefined : proc.fds.get(fd);
    const protocol = sock?.kind === 'socket' ? sock.protocol : null;
    const result = resultText(e);
    const time = this.#rel(e.time);
    if (e.name === 'bind') {
      const addr = readSockaddr(e.args[1]);
      if (!addr) return;
      this.#push(this.#binds, {
        pid: proc.pid,
        time,
        family: addr.family,
        ip: 'ip' in addr ? addr.ip : null,
        port: 'port' in addr ? addr.port : null,
        path: 'path' in addr ? addr.path : null,
        result,
      });
      return;
    }
    const messages = e.name === 'connect' ? [{ addr: e.args[1], data: [] }] : messagesOf(e);
    for (const msg of messages) {
      const addr = readSockaddr(msg.addr);
      if (addr) this.#connectTo(proc, e, addr, { protocol, result, fd });
      if (e.name === 'connect') continue;
      const peer = addr && 'ip' in addr ? addr : sock?.kind === 'socket' ? sock.peer : null;
      if (msg.data.length === 0) continue;
      const bytes = concatBytes(msg.data.map((s) => straceStringBytes(s.raw)));
      this.#push(this.#sends, {
        pid: proc.pid,
        time,
        ...(peer ? { ip: peer.ip, port: peer.port } : {}),
        preview: bytesToPreview(bytes, SEND_PREVIEW_BYTES),
        truncated: msg.data.some((s) => s.truncated),
        bytes: e.name === 'sendto' ? (e.result?.value ?? null) : null,
      });
    }
  }

  #connectTo(
    proc: Proc,
    e: SyscallEvent,
    addr: SocketAddress,
    ctx: { protocol: 'tcp' | 'udp' | null; result: string; fd: number | null },
  ): void {
    const time = this.#rel(e.time);
    if ('ip' in addr) {
      // A datagram sent with an explicit address is UDP even when socket() was not seen.
      const protocol = ctx.protocol ?? (e.name === 'connect' ? null : 'udp');
      this.#push(this.#connects, {
        pid: proc.pid,
        time,
        family: addr.family,
        ip: addr.ip,
        port: addr.port,
        protocol,
        result: ctx.result,
        syscall: e.name,
      });
      if (ctx.fd !== null && e.name === 'connect') this.#setPeer(proc, ctx.fd, addr);
    } else if ('path' in addr) {
      this.#push(this.#unix, {
        pid: proc.pid,
        time,
        path: addr.path,
        abstract: addr.abstract,
        result: ctx.result,
      });
    }
  }

  #kill(e: SyscallEvent): void {
    const tg = e.name === 'tgkill';
    const target = Number(rawText(e.args[tg ? 1 : 0]));
    this.#push(this.#kills, {
      pid: e.pid,
      time: this.#rel(e.time),
      target: Number.isFinite(target) ? target : 0,
      signal: rawText(e.args[tg ? 2 : 1]),
      syscall: e.name,
      result: resultText(e),
    });
  }

  #resolve(
    proc: Proc,
    dirfd: StraceValue | undefined,
    path: string,
    truncated = false,
  ): { path: string; flags: string[] } {
    const flags: string[] = truncated ? ['path-truncated'] : [];
    if (path.startsWith('/')) return { path: resolveTracePath(null, path) ?? path, flags };
    const dir = rawText(dirfd);
    let base: string | null;
    if (dirfd === undefined || dir === 'AT_FDCWD') {
      base = proc.fs.cwd;
      if (base === null) flags.push('cwd-unknown');
    } else {
      base = this.#fdPath(proc, dirfd);
      if (base === null) flags.push(`dirfd-unknown:${dir}`);
    }
    if (base === null) return { path, flags };
    return { path: path === '' ? base : (resolveTracePath(base, path) ?? path), flags };
  }

  #fdPath(proc: Proc, fdArg: StraceValue | undefined): string | null {
    const fd = fdNumber(fdArg);
    const info = fd === null ? undefined : proc.fds.get(fd);
    return info?.kind === 'path' ? info.path : null;
  }

  #touch(proc: Proc, target: { path: string; flags: string[] }, ops: FileOp[], error: string | null): void {
    const touch: FileTouch = { path: target.path, ops, flags: target.flags, error, pid: proc.pid };
    this.#table.add(touch);
  }

  #push<T>(list: T[], item: T): void {
    if (list.length < this.#max) list.push(item);
    else this.#stats.dropped++;
  }

  #rel(time: number): number {
    return Math.round((time - this.#opts.startTime) * 1e6) / 1e6;
  }
}

function rawText(value: StraceValue | undefined): string {
  if (value === undefined) return '';
  if (value.kind === 'raw') return value.text;
  if (value.kind === 'field') return rawText(value.value);
  return '';
}

function valueText(value: StraceValue): string {
  return value.kind === 'string' ? value.value : rawText(value);
}

function namedArg(args: StraceValue[], name: string): StraceValue | undefined {
  for (const a of args) if (a.kind === 'field' && a.name === name) return a.value;
  return undefined;
}

function fdNumber(value: StraceValue | undefined): number | null {
  const text = rawText(value);
  return /^\d+$/.test(text) ? Number(text) : null;
}

function resultText(e: SyscallEvent): string {
  if (!e.result || e.result.value === null) return e.result?.error ?? 'unknown';
  return e.result.error ?? 'ok';
}

type StraceStringValue = Extract<StraceValue, { kind: 'string' }>;

/** The (address, data) pairs of a sendto/sendmsg/sendmmsg call, as far as strace printed them. */
function messagesOf(e: SyscallEvent): { addr: StraceValue | undefined; data: StraceStringValue[] }[] {
  if (e.name === 'sendto') {
    const data = e.args[1];
    return [{ addr: e.args[4], data: data?.kind === 'string' ? [data] : [] }];
  }
  if (e.name === 'sendmsg') return [msghdr(e.args[1])];
  const vec = e.args[1];
  if (vec?.kind !== 'array') return [];
  return vec.items.map((item) => msghdr(findField(item, 'msg_hdr')));
}

function msghdr(value: StraceValue | undefined): {
  addr: StraceValue | undefined;
  data: StraceStringValue[];
} {
  const iov = findField(value, 'msg_iov');
  const data: StraceStringValue[] = [];
  if (iov?.kind === 'array') {
    for (const item of iov.items) {
      const base = findField(item, 'iov_base');
      if (base?.kind === 'string') data.push(base);
    }
  }
  return { addr: findField(value, 'msg_name'), data };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
