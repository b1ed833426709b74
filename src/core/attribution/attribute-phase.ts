import type { Attribution, Connection, DnsQuery, FileAccess, Phase } from '../record/schema.ts';
import { isPipOwnFile } from './pip-own-file.ts';

/** A connect()/sendto() with an address, as the trace builder lists them. */
export interface TracedConnect {
  pid: number;
  /** Seconds since the phase started, like the record's times. */
  time: number;
  ip: string;
  port: number;
}

export interface AttributePhaseInput {
  /** From attributeProcesses. */
  processes: ReadonlyMap<number, Attribution>;
  connects: readonly TracedConnect[];
  /**
   * Import phase: the distributions in the order their modules were imported (dependencies first,
   * deepest first; the package last). A behaviour a later stage shows that an earlier stage's own
   * import already showed (same command line, path, DNS name or destination) is the earlier one's.
   */
  stagedOrder?: readonly string[];
  /** Files the installer touches on its own (default: pip's, isPipOwnFile; npm records pass isNpmOwnFile). */
  installerOwnFile?: (file: FileAccess) => boolean;
}

/**
 * The sinkhole and the resolver log an event after the process's connect/sendto, on the same host
 * clock; record times are rounded to the millisecond, so allow that much the other way.
 */
const CLOCK_SLACK_S = 0.002;
/** glibc retries an unanswered query after 5 s: look back a little further than that. */
const DNS_LOOKBACK_S = 12;
const UNKNOWN: Attribution = { kind: 'unknown', distribution: null, method: 'no-traced-process' };

/** Fills `by` on the phase's commands, files, DNS queries and connections (docs/RECORD.md, "Attribution"). */
export function attributePhase(phase: Phase, input: AttributePhaseInput): Phase {
  const of = (pid: number): Attribution => input.processes.get(pid) ?? UNKNOWN;
  const resolverConnects = input.connects.filter((c) => c.port === 53).sort((a, b) => a.time - b.time);
  // pip here talks only to the index proxy (not listed) and touches only its own files: anything
  // else done inside a pip process is code pip ran on someone's behalf (e.g. a dependency's .pth).
  const notPip = (a: Attribution, ok: boolean): Attribution =>
    a.kind === 'pip' && !ok ? { kind: 'unknown', distribution: null, method: 'unexpected-for-pip' } : a;
  const ownFile = input.installerOwnFile ?? isPipOwnFile;
  const fileBy = (f: FileAccess) => uniqueAttributions(f.pids.map((pid) => notPip(of(pid), ownFile(f))));
  const attributed: Phase = {
    ...phase,
    commands: phase.commands.map((c) => ({ ...c, by: of(c.pid) })),
    files: phase.files.map((f) => ({ ...f, by: fileBy(f) })),
    dns: phase.dns.map((q) => ({ ...q, by: [notPip(_dnsCulprit(q, resolverConnects, of), false)] })),
    connections: phase.connections.map((c) => ({
      ...c,
      by: [notPip(_connectionCulprit(c, input.connects, of), false)],
    })),
  };
  return input.stagedOrder ? _applyStaging(attributed, input.stagedOrder) : attributed;
}

/** One entry per (kind, distribution), first seen first. */
export function uniqueAttributions(list: readonly Attribution[]): Attribution[] {
  const seen = new Set<string>();
  const out: Attribution[] = [];
  for (const a of list) {
    const key = `${a.kind}\0${a.distribution ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

function _dnsCulprit(
  query: DnsQuery,
  resolverConnects: readonly TracedConnect[],
  of: (pid: number) => Attribution,
): Attribution {
  let best: TracedConnect | undefined;
  for (const c of resolverConnects) {
    if (c.time > query.time + CLOCK_SLACK_S) break;
    if (c.time >= query.time - DNS_LOOKBACK_S) best = c;
  }
  return best ? of(best.pid) : UNKNOWN;
}

/**
 * The last traced connect to the same destination before the sinkhole accepted it (two processes
 * may reach the same host, each in its own stage); the nearest one when none came before.
 */
function _connectionCulprit(
  connection: Connection,
  connects: readonly TracedConnect[],
  of: (pid: number) => Attribution,
): Attribution {
  let before: TracedConnect | undefined;
  let nearest: TracedConnect | undefined;
  const distance = (c: TracedConnect) => Math.abs(c.time - connection.time);
  for (const c of connects) {
    if (c.ip !== connection.ip || c.port !== connection.port) continue;
    if (c.time <= connection.time + CLOCK_SLACK_S && (!before || c.time > before.time)) before = c;
    if (!nearest || distance(c) < distance(nearest)) nearest = c;
  }
  const best = before ?? nearest;
  if (best) return of(best.pid);
  // The trace may have missed the call (lost events): any pid the record already names.
  const pid = connection.pids[0];
  return pid === undefined ? UNKNOWN : of(pid);
}

function _applyStaging(phase: Phase, order: readonly string[]): Phase {
  const stage = new Map(order.map((d, i) => [d, i]));
  // signature -> earliest stage (index into order) that showed it
  const earliest = new Map<string, number>();
  const note = (sig: string, by: readonly Attribution[] | undefined): void => {
    for (const a of by ?? []) {
      const s = a.distribution === null ? undefined : stage.get(a.distribution);
      if (s === undefined) continue;
      const seen = earliest.get(sig);
      if (seen === undefined || s < seen) earliest.set(sig, s);
    }
  };
  const sigs = {
    command: (argv: readonly string[]) => `cmd\0${argv.join('\0')}`,
    file: (path: string) => `file\0${path}`,
    dns: (q: DnsQuery) => `dns\0${q.name}\0${q.type}`,
    connection: (c: Connection) => `conn\0${c.hostname ?? c.ip}\0${c.port}\0${c.protocol}`,
  };
  for (const c of phase.commands) note(sigs.command(c.argv), c.by ? [c.by] : []);
  for (const f of phase.files) note(sigs.file(f.path), f.by);
  for (const q of phase.dns) note(sigs.dns(q), q.by);
  for (const c of phase.connections) note(sigs.connection(c), c.by);

  const restage = (sig: string, a: Attribution): Attribution => {
    const first = earliest.get(sig);
    const own = a.distribution === null ? undefined : stage.get(a.distribution);
    if (first === undefined || own === undefined || first >= own) return a;
    const distribution = order[first] ?? null;
    return { kind: 'dependency', distribution, method: 'staged-import' };
  };
  const restageAll = (sig: string, by: readonly Attribution[] | undefined) =>
    by === undefined ? undefined : uniqueAttributions(by.map((a) => restage(sig, a)));
  return {
    ...phase,
    commands: phase.commands.map((c) =>
      c.by === undefined ? c : { ...c, by: restage(sigs.command(c.argv), c.by) },
    ),
    files: phase.files.map((f) => _withBy(f, restageAll(sigs.file(f.path), f.by))),
    dns: phase.dns.map((q) => _withBy(q, restageAll(sigs.dns(q), q.by))),
    connections: phase.connections.map((c) => _withBy(c, restageAll(sigs.connection(c), c.by))),
  };
}

function _withBy<T extends { by?: Attribution[] | undefined }>(item: T, by: Attribution[] | undefined): T {
  return by === undefined ? item : { ...item, by };
}
