import { type Behaviour, recordBehaviours } from '../population/record-behaviours.ts';
import type { BehaviourRecord } from '../record/schema.ts';
import { verdictOf } from './verdict-view.ts';

/** A count over all behaviour (`raw`) and with dependency-induced behaviour removed (`own`). */
export interface CountPair {
  raw: number;
  own: number;
}

export interface BehaviourRow {
  key: string;
  /** Packages that show it at all. */
  packages: number;
  /** Packages that show it by their own doing (not only through a dependency or pip). */
  packages_own: number;
  example: string;
}

export interface SuspiciousPackage {
  package: string;
  version: string | null;
  level: string;
  score: number;
  findings: {
    rule: string;
    severity: string;
    title: string;
    evidence: { pointer: string; text: string }[];
  }[];
}

/** The study's numbers over a set of records (one per project). See README "pkghunt report". */
export interface StudyReport {
  packages: number;
  outcomes: { install: Record<string, number>; import: Record<string, number> };
  connected_during_install: {
    packages: CountPair;
    list: { package: string; version: string | null; hosts: string[]; own: boolean }[];
  };
  hosts: { unique: CountPair; rows: BehaviourRow[] };
  dns: { unique: CountPair; rows: BehaviourRow[] };
  commands: { packages: CountPair; unique: CountPair; rows: BehaviourRow[] };
  suspicious: { packages: number; by_level: Record<string, number>; top: SuspiciousPackage[] };
}

export interface ReportBuilder {
  add(record: BehaviourRecord): void;
  finish(): StudyReport;
}

interface Tally {
  packages: number;
  own: number;
  example: string;
}

function _count(map: Map<string, Tally>, behaviour: Behaviour): void {
  const entry = map.get(behaviour.key) ?? { packages: 0, own: 0, example: behaviour.example };
  entry.packages++;
  if (behaviour.own) entry.own++;
  map.set(behaviour.key, entry);
}

function _rows(map: Map<string, Tally>, top: number): BehaviourRow[] {
  return [...map.entries()]
    .map(([key, t]) => ({ key, packages: t.packages, packages_own: t.own, example: t.example }))
    .sort((a, b) => b.packages - a.packages || b.packages_own - a.packages_own || (a.key < b.key ? -1 : 1))
    .slice(0, top);
}

function _unique(map: Map<string, Tally>): CountPair {
  let own = 0;
  for (const t of map.values()) if (t.own > 0) own++;
  return { raw: map.size, own };
}

function _bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** How the report names a package: its name, prefixed `npm:` for npm packages. */
function _label(record: BehaviourRecord): string {
  return record.package.ecosystem === 'npm' ? `npm:${record.package.name}` : record.package.name;
}

/** Accumulates records one at a time (they are streamed from the store) into the study's numbers. */
export function createReportBuilder(options: {
  /** How many rows of each ranking (hosts, DNS names, commands, suspicious packages) to keep. */
  top: number;
}): ReportBuilder {
  const keep = options.top;
  let packages = 0;
  const outcomes = { install: {} as Record<string, number>, import: {} as Record<string, number> };
  const connected: StudyReport['connected_during_install']['list'] = [];
  const hosts = new Map<string, Tally>();
  const dns = new Map<string, Tally>();
  const commands = new Map<string, Tally>();
  const ranCommands: CountPair = { raw: 0, own: 0 };
  const byLevel: Record<string, number> = {};
  let suspicious: SuspiciousPackage[] = [];

  function _sortSuspicious(): void {
    suspicious.sort((a, b) => b.score - a.score || (a.package < b.package ? -1 : 1));
  }

  return {
    add(record) {
      packages++;
      _bump(outcomes.install, record.phases.install?.status ?? 'not_run');
      _bump(outcomes.import, record.phases.import?.status ?? 'not_run');
      const behaviours = recordBehaviours(record);
      const installHosts = behaviours.filter((b) => b.kind === 'host' && b.phases.includes('install'));
      if (installHosts.length > 0) {
        connected.push({
          package: _label(record),
          version: record.package.version,
          hosts: installHosts.map((b) => b.key),
          own: installHosts.some((b) => b.own),
        });
      }
      const cmds = behaviours.filter((b) => b.kind === 'command');
      if (cmds.length > 0) ranCommands.raw++;
      if (cmds.some((b) => b.own)) ranCommands.own++;
      for (const b of behaviours) {
        if (b.kind === 'host') _count(hosts, b);
        else if (b.kind === 'dns') _count(dns, b);
        else if (b.kind === 'command') _count(commands, b);
      }
      const verdict = verdictOf(record);
      if (verdict === null) return;
      _bump(byLevel, verdict.level);
      if (verdict.level === 'clean') return;
      suspicious.push({
        package: _label(record),
        version: record.package.version,
        level: verdict.level,
        score: verdict.score,
        findings: verdict.findings.map((f) => ({
          rule: f.rule,
          severity: f.severity,
          title: f.title ?? f.rule,
          evidence: (f.evidence ?? []).map((e) => ({ pointer: e.pointer ?? '', text: e.text ?? '' })),
        })),
      });
      // Bounded memory on a whole-index store: keep only the best few while streaming.
      if (suspicious.length > 2 * keep + 100) {
        _sortSuspicious();
        suspicious = suspicious.slice(0, keep);
      }
    },
    finish() {
      _sortSuspicious();
      const suspiciousCount = Object.entries(byLevel)
        .filter(([level]) => level !== 'clean')
        .reduce((sum, [, n]) => sum + n, 0);
      return {
        packages,
        outcomes,
        connected_during_install: {
          packages: { raw: connected.length, own: connected.filter((c) => c.own).length },
          list: [...connected].sort((a, b) => (a.package < b.package ? -1 : 1)),
        },
        hosts: { unique: _unique(hosts), rows: _rows(hosts, options.top) },
        dns: { unique: _unique(dns), rows: _rows(dns, options.top) },
        commands: { packages: ranCommands, unique: _unique(commands), rows: _rows(commands, options.top) },
        suspicious: { packages: suspiciousCount, by_level: byLevel, top: suspicious.slice(0, options.top) },
      };
    },
  };
}
