import { isBuildOwnCommand } from '../behaviour/build-own-commands.ts';
import { isBuildOwnFile } from '../behaviour/build-own-files.ts';
import type {
  Attribution,
  BehaviourRecord,
  Command,
  Connection,
  DnsQuery,
  FileAccess,
  Phase,
  PhaseName,
} from '../record/schema.ts';
import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';
import type { Allowlist } from './allowlist.ts';
import type { Culprit } from './rule.ts';

export interface Item<T> {
  value: T;
  /** JSON pointer into the record. */
  pointer: string;
  culprit: Culprit | null;
}

export interface PhaseView {
  name: PhaseName;
  phase: Phase;
  /** Commands that are neither pip's own nor allowlisted build machinery. */
  commands: Item<Command>[];
  files: Item<FileAccess>[];
  connections: Item<Connection>[];
  dns: Item<DnsQuery>[];
  /** Pids of commands set aside as pip's or the build machinery's. */
  benignPids: ReadonlySet<number>;
  /** Parent pid of each traced command. */
  parents: ReadonlyMap<number, number | null>;
}

export interface RecordView {
  phases: PhaseView[];
  allowlist: Allowlist;
}

const PHASES: readonly PhaseName[] = ['install', 'import'];
const PRIORITY = ['package', 'dependency', 'build_dependency', 'unknown'] as const;

/**
 * The culprit of a behaviour, from its `by` entries: undefined when only pip did it (never a
 * finding), null when the record does not say (records from before attribution).
 */
export function culpritOf(by: readonly Attribution[] | undefined): Culprit | null | undefined {
  if (by === undefined || by.length === 0) return null;
  for (const kind of PRIORITY) {
    const hit = by.find((b) => b.kind === kind);
    if (hit) return { kind: hit.kind, distribution: hit.distribution };
  }
  return undefined;
}

/** A path as the rules' patterns spell it: the sandbox home becomes `~`. */
export function tildePath(path: string): string {
  const home = SANDBOX_LAYOUT.home;
  return path === home || path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

function items<T extends { by?: Attribution[] | Attribution | undefined }>(
  values: readonly T[],
  base: string,
  keep: (value: T) => boolean,
): Item<T>[] {
  const out: Item<T>[] = [];
  values.forEach((value, i) => {
    const by = value.by === undefined ? undefined : Array.isArray(value.by) ? value.by : [value.by];
    const culprit = culpritOf(by);
    if (culprit === undefined || !keep(value)) return;
    out.push({ value, pointer: `${base}/${i}`, culprit });
  });
  return out;
}

function phaseView(name: PhaseName, phase: Phase, allowlist: Allowlist): PhaseView {
  const base = `/phases/${name}`;
  const benignPids = new Set<number>();
  const parents = new Map<number, number | null>();
  const isBenign = (c: Command) =>
    c.by?.kind === 'pip' || isBuildOwnCommand(c.argv) || allowlist.command(c.argv, name) !== null;
  for (const c of phase.commands) {
    parents.set(c.pid, c.ppid);
    if (isBenign(c)) benignPids.add(c.pid);
  }
  return {
    name,
    phase,
    commands: items(phase.commands, `${base}/commands`, (c) => !isBenign(c)),
    files: items(
      phase.files,
      `${base}/files`,
      (f) => !isBuildOwnFile(f.path) && allowlist.path(f.path) === null,
    ),
    connections: items(phase.connections, `${base}/connections`, () => true),
    dns: items(phase.dns, `${base}/dns`, () => true),
    benignPids,
    parents,
  };
}

export function buildRecordView(record: BehaviourRecord, allowlist: Allowlist): RecordView {
  const phases: PhaseView[] = [];
  for (const name of PHASES) {
    const phase = record.phases[name];
    if (phase) phases.push(phaseView(name, phase, allowlist));
  }
  return { phases, allowlist };
}

export function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

/** Is `pid` the same as, or a descendant of, `ancestor` in the phase's process tree? */
export function inTree(view: PhaseView, pid: number, ancestor: number): boolean {
  let current: number | null | undefined = pid;
  for (let hops = 0; current !== null && current !== undefined && hops < 64; hops++) {
    if (current === ancestor) return true;
    current = view.parents.get(current);
  }
  return false;
}

/** Short, single-line text of a command for evidence. */
export function showArgv(argv: readonly string[], max = 160): string {
  const text = argv.join(' ').replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The destination as a person reads it: SNI, Host header, the DNS name, else the address. */
export function destinationOf(c: Connection): string {
  const host = c.tls_sni ?? c.http?.host ?? c.hostname;
  return host === null ? c.ip : host.replace(/:\d+$/, '').toLowerCase();
}
