import { isBuildOwnCommand } from '../behaviour/build-own-commands.ts';
import { isBuildOwnFile } from '../behaviour/build-own-files.ts';
import type { Attribution, BehaviourRecord, Connection, PhaseName } from '../record/schema.ts';
import { commandShape } from './command-shape.ts';
import { pathPattern } from './path-pattern.ts';

export type BehaviourKind = 'host' | 'dns' | 'command' | 'path';

/** One distinct behaviour of a record, keyed so that it compares across packages and versions. */
export interface Behaviour {
  kind: BehaviourKind;
  key: string;
  phases: PhaseName[];
  /** The package's own doing: not attributed (only) to a dependency, a build dependency or pip. */
  own: boolean;
  /** Every distinct culprit the record names for it. */
  by: Attribution[];
  /** One concrete instance, for people: the host with address and port, the argv, the path. */
  example: string;
  /** Paths only: something modified it (write, create, delete, rename, chmod). */
  write: boolean;
}

const PHASES: readonly PhaseName[] = ['install', 'import'];
const INDUCED = new Set(['dependency', 'build_dependency', 'pip']);
const WRITE_OPS = new Set(['write', 'create', 'delete', 'rename', 'chmod']);

/**
 * Unattributed behaviour counts as the package's (records written before attribution existed);
 * so does `unknown`: only behaviour proven to come from a dependency or pip is set aside.
 */
export function isOwnBehaviour(by: readonly Attribution[] | undefined): boolean {
  if (by === undefined || by.length === 0) return true;
  return by.some((b) => !INDUCED.has(b.kind));
}

/** The best name for a destination: what the packet said (SNI, Host), else what DNS handed out, else the IP. */
export function destinationOf(connection: Connection): string {
  const host = connection.tls_sni ?? connection.http?.host ?? connection.hostname;
  return host === null ? connection.ip : host.replace(/:\d+$/, '').toLowerCase();
}

export function dnsKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The import phase's own probe: the sandbox's python importing one of the package's modules. */
function _isImportProbe(argv: readonly string[], modules: ReadonlySet<string>): boolean {
  const [exe = '', flag, code, ...rest] = argv;
  if (!/(^|\/)python(3(\.\d+)?)?$/.test(exe) || flag !== '-c' || rest.length > 0) return false;
  const match = /^import ([\w.]+)$/.exec(code ?? '');
  return match?.[1] !== undefined && modules.has(match[1]);
}

function _sameAttribution(a: Attribution, b: Attribution): boolean {
  return a.kind === b.kind && a.distribution === b.distribution;
}

/**
 * The distinct hosts, DNS names, commands and paths of a record, beyond what pip and the build
 * machinery do for every package (build-own commands and files, the import probe).
 */
export function recordBehaviours(record: BehaviourRecord): Behaviour[] {
  const found = new Map<string, Behaviour>();
  const pkg = { name: record.package.name, version: record.package.version };

  function add(
    item: Omit<Behaviour, 'phases' | 'own' | 'by'> & {
      phase: PhaseName;
      by: readonly Attribution[] | undefined;
    },
  ): void {
    const id = `${item.kind}\0${item.key}`;
    const by = item.by ?? [];
    const existing = found.get(id);
    if (existing === undefined) {
      found.set(id, {
        kind: item.kind,
        key: item.key,
        phases: [item.phase],
        own: isOwnBehaviour(item.by),
        by: [...by],
        example: item.example,
        write: item.write,
      });
      return;
    }
    if (!existing.phases.includes(item.phase)) existing.phases.push(item.phase);
    existing.own ||= isOwnBehaviour(item.by);
    existing.write ||= item.write;
    for (const b of by) if (!existing.by.some((e) => _sameAttribution(e, b))) existing.by.push(b);
  }

  for (const phase of PHASES) {
    const data = record.phases[phase];
    if (!data) continue;
    for (const c of data.connections) {
      const host = destinationOf(c);
      add({
        kind: 'host',
        key: host,
        phase,
        by: c.by,
        example: `${host} (${c.ip}:${c.port}/${c.protocol})`,
        write: false,
      });
    }
    for (const q of data.dns) {
      add({ kind: 'dns', key: dnsKey(q.name), phase, by: q.by, example: q.name, write: false });
    }
    const modules = new Set(data.modules.map((m) => m.module));
    for (const command of data.commands) {
      if (isBuildOwnCommand(command.argv) || _isImportProbe(command.argv, modules)) continue;
      const by = command.by === undefined ? undefined : [command.by];
      add({
        kind: 'command',
        key: commandShape(command.argv, pkg),
        phase,
        by,
        example: command.argv.join(' '),
        write: false,
      });
    }
    for (const file of data.files) {
      if (isBuildOwnFile(file.path)) continue;
      add({
        kind: 'path',
        key: pathPattern(file.path, pkg),
        phase,
        by: file.by,
        example: file.path,
        write: file.ops.some((op) => WRITE_OPS.has(op)),
      });
    }
  }
  return [...found.values()];
}
