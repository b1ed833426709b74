import { type Behaviour, type BehaviourKind, recordBehaviours } from '../population/record-behaviours.ts';
import type { Attribution, BehaviourRecord, DiffFromPrevious } from '../record/schema.ts';

export interface DiffItem {
  /** What is compared: host name (or IP), DNS name, command shape, path pattern. */
  key: string;
  /** A concrete instance from the record it was found in. */
  example: string;
  by: Attribution[];
}

export interface DiffSide {
  hosts: DiffItem[];
  dns: DiffItem[];
  commands: DiffItem[];
  file_writes: DiffItem[];
}

export interface RecordDiff {
  name: string;
  from: string | null;
  to: string | null;
  /** In `to`, not in `from`. */
  new: DiffSide;
  /** In `from`, not in `to`. */
  gone: DiffSide;
}

const SIDES: readonly { field: keyof DiffSide; kind: BehaviourKind; writesOnly: boolean }[] = [
  { field: 'hosts', kind: 'host', writesOnly: false },
  { field: 'dns', kind: 'dns', writesOnly: false },
  { field: 'commands', kind: 'command', writesOnly: false },
  { field: 'file_writes', kind: 'path', writesOnly: true },
];

function _keys(
  behaviours: readonly Behaviour[],
  kind: BehaviourKind,
  writesOnly: boolean,
): Map<string, Behaviour> {
  const out = new Map<string, Behaviour>();
  for (const b of behaviours) if (b.kind === kind && (!writesOnly || b.write)) out.set(b.key, b);
  return out;
}

function _minus(a: Map<string, Behaviour>, b: Map<string, Behaviour>): DiffItem[] {
  return [...a.values()]
    .filter((item) => !b.has(item.key))
    .map((item) => ({ key: item.key, example: item.example, by: item.by }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

/**
 * What changed in behaviour from release `from` to release `to` of a project: hosts, DNS names,
 * commands and file writes outside the venv that appeared or went away. Commands compare by
 * shape and paths by pattern (the version and temp names replaced), so a version bump alone
 * shows no change.
 */
export function diffRecords(from: BehaviourRecord, to: BehaviourRecord): RecordDiff {
  const a = recordBehaviours(from);
  const b = recordBehaviours(to);
  const added: DiffSide = { hosts: [], dns: [], commands: [], file_writes: [] };
  const gone: DiffSide = { hosts: [], dns: [], commands: [], file_writes: [] };
  for (const side of SIDES) {
    const ka = _keys(a, side.kind, side.writesOnly);
    const kb = _keys(b, side.kind, side.writesOnly);
    added[side.field] = _minus(kb, ka);
    gone[side.field] = _minus(ka, kb);
  }
  return { name: to.package.name, from: from.package.version, to: to.package.version, new: added, gone };
}

/** True when nothing appeared and nothing went away. */
export function isEmptyDiff(diff: RecordDiff): boolean {
  return SIDES.every((s) => diff.new[s.field].length === 0 && diff.gone[s.field].length === 0);
}

/** The short form kept in a record (`diff_from_previous`, see docs/RECORD.md). */
export function diffFromPrevious(previous: BehaviourRecord, current: BehaviourRecord): DiffFromPrevious {
  const diff = diffRecords(previous, current);
  return {
    version: previous.package.version,
    new_hosts: diff.new.hosts.map((i) => i.key),
    new_dns: diff.new.dns.map((i) => i.key),
    new_commands: diff.new.commands.map((i) => i.example),
    new_file_writes: diff.new.file_writes.map((i) => i.example),
  };
}
