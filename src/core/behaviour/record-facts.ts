import type { BehaviourRecord, Command, PhaseName } from '../record/schema.ts';
import { isBuildOwnCommand } from './build-own-commands.ts';

/**
 * The flat, queryable facts of one record, derived here (in TS, where the knowledge of what is
 * the build's own lives) so that stores only keep rows and plain SQL views can answer the
 * study's questions without parsing JSON.
 */
export interface RecordFacts {
  installStatus: string | null;
  importStatus: string | null;
  connectedOut: boolean;
  /** Ran a command that is not one the build machinery runs for every package. */
  ranCommands: boolean;
  canaryHits: number;
  /** The detection verdict (`record.verdict`), null in records written without one. */
  verdictLevel: string | null;
  verdictScore: number | null;
  connections: {
    phase: PhaseName;
    protocol: string;
    ip: string;
    port: number;
    host: string | null;
  }[];
  dns: { phase: PhaseName; name: string }[];
  commands: { phase: PhaseName; command: string; exe: string }[];
}

const PHASES: readonly PhaseName[] = ['install', 'import'];

/** The best name for a destination: what the packet said (SNI, Host), else what DNS handed out. */
function destinationHost(connection: {
  tls_sni: string | null;
  http: { host: string | null } | null;
  hostname: string | null;
}): string | null {
  const host = connection.tls_sni ?? connection.http?.host ?? connection.hostname;
  // An HTTP Host header may carry a port; the port has its own column.
  return host === null ? null : host.replace(/:\d+$/, '').toLowerCase();
}

/** The import phase's own probe: the sandbox's python importing one of the package's modules. */
export function isImportProbe(argv: readonly string[], modules: ReadonlySet<string>): boolean {
  const [exe = '', flag, code, ...rest] = argv;
  if (!/(^|\/)python(3(\.\d+)?)?$/.test(exe) || flag !== '-c' || rest.length > 0) return false;
  const match = /^import ([\w.]+)$/.exec(code ?? '');
  return match?.[1] !== undefined && modules.has(match[1]);
}

/**
 * npm's own work in an npm record, as the build's own is in a PyPI one: npm itself (attributed to
 * the installer) and the runner's entry-point probes (`node -e 'require("x")'`).
 */
export function isNpmOwnCommand(command: Pick<Command, 'argv' | 'by'>): boolean {
  if (command.by?.kind === 'pip') return true;
  const [exe = '', ...rest] = command.argv;
  return (
    /(^|\/)node$/.test(exe) && rest.at(-2) === '-e' && /^(require|await import)\(/.test(rest.at(-1) ?? '')
  );
}

export function recordFacts(record: BehaviourRecord): RecordFacts {
  const npm = record.package.ecosystem === 'npm';
  const facts: RecordFacts = {
    installStatus: record.phases.install?.status ?? null,
    importStatus: record.phases.import?.status ?? null,
    connectedOut: false,
    ranCommands: false,
    canaryHits: 0,
    // Records written before the detection rules existed have no verdict.
    verdictLevel: record.verdict?.level ?? null,
    verdictScore: record.verdict?.score ?? null,
    connections: [],
    dns: [],
    commands: [],
  };
  for (const phase of PHASES) {
    const data = record.phases[phase];
    if (!data) continue;
    facts.canaryHits += data.canaries.length;
    const seenConnections = new Set<string>();
    for (const c of data.connections) {
      const row = { phase, protocol: c.protocol, ip: c.ip, port: c.port, host: destinationHost(c) };
      const key = `${row.protocol} ${row.ip} ${row.port} ${row.host}`;
      if (seenConnections.has(key)) continue;
      seenConnections.add(key);
      facts.connections.push(row);
    }
    for (const name of new Set(data.dns.map((q) => q.name.toLowerCase().replace(/\.$/, '')))) {
      facts.dns.push({ phase, name });
    }
    const modules = new Set(data.modules.map((m) => m.module));
    const seenCommands = new Set<string>();
    for (const command of data.commands) {
      if (isBuildOwnCommand(command.argv) || isImportProbe(command.argv, modules)) continue;
      if (npm && isNpmOwnCommand(command)) continue;
      const text = command.argv.join(' ');
      if (seenCommands.has(text)) continue;
      seenCommands.add(text);
      facts.commands.push({ phase, command: text, exe: command.exe });
    }
  }
  facts.connectedOut = facts.connections.length > 0;
  facts.ranCommands = facts.commands.length > 0;
  return facts;
}
