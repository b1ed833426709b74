import { isImportProbe } from '../behaviour/record-facts.ts';
import { type Allowlist, EMPTY_ALLOWLIST } from '../detect/allowlist.ts';
import { buildRecordView, culpritOf } from '../detect/record-view.ts';
import type { BehaviourRecord, PhaseName } from '../record/schema.ts';

/** What a malware report shows, folded: identical items of a phase appear once with a count. */
export interface DraftEvidence {
  contacts: {
    phase: PhaseName;
    protocol: 'tcp' | 'udp';
    /** The name it was reached by (SNI, Host, DNS), else null. */
    host: string | null;
    ip: string;
    port: number;
    connections: number;
    /** Most bytes sent on one of those connections. */
    sent_bytes: number;
    /** First bytes sent on that connection, escaped (\xNN) by the sinkhole, cut to the preview length. */
    sent_preview: string;
    http: string | null;
    tls_sni: string | null;
  }[];
  dns: { phase: PhaseName; name: string; types: string[]; queries: number }[];
  commands: { phase: PhaseName; argv: string[]; times: number }[];
  canaries: { phase: PhaseName; canary: string; how: string; evidence: string }[];
  files: { phase: PhaseName; path: string; ops: string[] }[];
  survivors: { phase: PhaseName; argv: string[]; killed: boolean }[];
}

export interface CollectOptions {
  /** Build machinery known benign (data/allowlist.json); default: none. */
  allowlist?: Allowlist;
  /** Characters of a sent preview kept. */
  previewChars?: number;
}

function _cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function _fold<T>(items: readonly T[], key: (item: T) => string, add: (first: T, next: T) => void): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const seen = byKey.get(k);
    if (seen === undefined) byKey.set(k, item);
    else add(seen, item);
  }
  return [...byKey.values()];
}

/**
 * The evidence of a record that is the package's: pip's own behaviour, the build machinery's
 * (build-own, allowlisted) and the import probe are left out, as the detection rules leave them out.
 */
export function collectEvidence(record: BehaviourRecord, options: CollectOptions = {}): DraftEvidence {
  const view = buildRecordView(record, options.allowlist ?? EMPTY_ALLOWLIST);
  const previewChars = options.previewChars ?? 240;
  const evidence: DraftEvidence = {
    contacts: [],
    dns: [],
    commands: [],
    canaries: [],
    files: [],
    survivors: [],
  };
  for (const pv of view.phases) {
    const phase = pv.name;
    const modules = new Set(pv.phase.modules.map((m) => m.module));
    const contacts = pv.connections.map(({ value: c }) => {
      const host = c.tls_sni ?? c.http?.host?.replace(/:\d+$/, '') ?? c.hostname;
      return {
        phase,
        protocol: c.protocol,
        host: host === null ? null : host.toLowerCase(),
        ip: c.ip,
        port: c.port,
        connections: 1,
        sent_bytes: c.sent_bytes,
        sent_preview: _cut(c.sent_preview, previewChars),
        http: c.http ? `${c.http.method} ${c.http.host ?? ''}${c.http.path}` : null,
        tls_sni: c.tls_sni,
      };
    });
    evidence.contacts.push(
      ..._fold(
        contacts,
        (c) => JSON.stringify([c.protocol, c.host, c.ip, c.port, c.http]),
        (first, next) => {
          first.connections += next.connections;
          // The preview shown is of the connection that sent the most.
          if (next.sent_bytes > first.sent_bytes) {
            first.sent_bytes = next.sent_bytes;
            first.sent_preview = next.sent_preview;
          }
        },
      ),
    );
    const dns = pv.dns.map(({ value: q }) => ({
      phase,
      name: q.name.toLowerCase().replace(/\.$/, ''),
      types: [q.type],
      queries: 1,
    }));
    evidence.dns.push(
      ..._fold(
        dns,
        (q) => q.name,
        (first, next) => {
          first.queries += 1;
          for (const t of next.types) if (!first.types.includes(t)) first.types.push(t);
        },
      ),
    );
    const commands = pv.commands
      .filter(({ value: c }) => !isImportProbe(c.argv, modules))
      .map(({ value: c }) => ({ phase, argv: c.argv, times: 1 }));
    evidence.commands.push(
      ..._fold(
        commands,
        (c) => JSON.stringify(c.argv),
        (first) => {
          first.times += 1;
        },
      ),
    );
    for (const hit of pv.phase.canaries) {
      if (culpritOf(hit.by) === undefined) continue;
      evidence.canaries.push({ phase, canary: hit.canary, how: hit.how, evidence: hit.evidence });
    }
    for (const { value: f } of pv.files) {
      const changes = f.ops.filter((op) => op !== 'read');
      if (changes.length === 0 || f.failed >= f.count) continue;
      evidence.files.push({ phase, path: f.path, ops: changes });
    }
    for (const s of pv.phase.survivors) evidence.survivors.push({ phase, argv: s.argv, killed: s.killed });
  }
  return evidence;
}
