import type { Command, FileAccess, FileAreaSummary } from '../record/schema.ts';
import type { NoiseArea } from './file-access-table.ts';

export type { NoiseArea } from './file-access-table.ts';

export interface BehaviourOptions {
  /** The root is the first process whose successful execve has this path among its argv. */
  runnerPath?: string;
  /** ...or whose execve'd path equals this. Without either, the first traced process is the root. */
  rootExe?: string;
  /** Working directory of the root process as the sandbox set it (bwrap --chdir). */
  initialCwd?: string | null;
  /** Epoch seconds the phase started; all times in the result are relative to it. */
  startTime: number;
  noiseAreas?: readonly NoiseArea[];
  /** Prefixes always reported in full, even inside a noise area. */
  sensitivePaths?: readonly string[];
  /** Cap on each event list (commands, connects, sends, kills, processes); the rest is counted as dropped. */
  maxListItems?: number;
}

export type ConnectResult = string;

export interface NetConnect {
  pid: number;
  time: number;
  family: 'AF_INET' | 'AF_INET6';
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp' | null;
  /** 'ok', an error name (ECONNREFUSED, EINPROGRESS) or 'unknown' when the call never returned. */
  result: ConnectResult;
  syscall: string;
}

export interface UnixConnect {
  pid: number;
  time: number;
  path: string;
  abstract: boolean;
  result: ConnectResult;
}

export interface NetBind {
  pid: number;
  time: number;
  family: string;
  ip: string | null;
  port: number | null;
  path: string | null;
  result: ConnectResult;
}

export interface NetSend {
  pid: number;
  time: number;
  ip?: string;
  port?: number;
  /** Bytes strace showed, printable ASCII kept, the rest as \xNN. */
  preview: string;
  /** The shown data was cut at strace's -s limit. */
  truncated: boolean;
  /** Byte count the call reported sending, when it returned. */
  bytes: number | null;
}

export interface KillAttempt {
  pid: number;
  time: number;
  target: number;
  signal: string;
  syscall: string;
  result: ConnectResult;
}

export interface TracedProcess {
  pid: number;
  ppid: number | null;
  exe?: string;
  argv?: string[];
  /** Working directory at its last successful execve (at its creation if it never exec'd). */
  cwd?: string | null;
  start: number;
  end: number | null;
  /** 'exited with N' or 'killed by SIGNAL', null while still running at the end of the trace. */
  exit: string | null;
}

export interface TraceStats {
  lines: number;
  parsed: number;
  unparsed: number;
  firstUnparsed: string[];
  /** Events beyond maxListItems, not kept. */
  dropped: number;
}

export interface TraceBehaviour {
  /** Pid of the root process (the runner), null when it never appeared in the trace. */
  rootPid: number | null;
  commands: Command[];
  files: FileAccess[];
  file_summary: FileAreaSummary[];
  connects: NetConnect[];
  unixConnects: UnixConnect[];
  binds: NetBind[];
  sends: NetSend[];
  kills: KillAttempt[];
  processes: TracedProcess[];
  /** Descendants with no exit line before the root process exited. */
  survivors: { pid: number; argv: string[] }[];
  processCount: number;
  stats: TraceStats;
}
