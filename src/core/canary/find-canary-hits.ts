import type { CanaryHit, Command, Connection, DnsQuery, FileAccess } from '../record/schema.ts';
import type { CanarySet } from './make-canaries.ts';

/** What a phase produced that canaries are looked for in. `payloads` are the full captured bytes. */
export interface CanaryEvidence {
  files: readonly FileAccess[];
  commands: readonly Command[];
  dns: readonly DnsQuery[];
  connections: readonly Connection[];
  /** Raw bytes sent per connection, same order as `connections` (the preview alone may be cut). */
  payloads: readonly Uint8Array[];
  /** Requests that reached the index proxy: a package could smuggle a value in a project name. */
  indexPaths: readonly string[];
}

/**
 * Forms a stolen value may travel in: as is, lower-cased (DNS), hex, and base64 at each of the
 * three byte alignments (a value inside a larger base64-encoded blob).
 */
export function canaryNeedles(value: string): string[] {
  const needles = new Set<string>([value, value.toLowerCase(), Buffer.from(value).toString('hex')]);
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.from('\0'.repeat(shift) + value).toString('base64');
    // Drop the characters that depend on neighbouring bytes at both ends.
    const start = shift === 0 ? 0 : Math.ceil((shift * 4) / 3) + 1;
    const inner = encoded.replace(/=+$/, '').slice(start, -2);
    if (inner.length >= 12) {
      needles.add(inner);
      needles.add(inner.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  needles.add(encodeURIComponent(value));
  return [...needles];
}

function findNeedle(haystack: string, needles: readonly string[]): string | null {
  const lower = haystack.toLowerCase();
  for (const needle of needles) {
    if (haystack.includes(needle) || lower.includes(needle.toLowerCase())) return needle;
  }
  return null;
}

/** Finds every canary file read and every canary value seen in argv, DNS names or sent bytes. */
export function findCanaryHits(canaries: CanarySet, evidence: CanaryEvidence): CanaryHit[] {
  const hits: CanaryHit[] = [];
  const seen = new Set<string>();
  function add(hit: CanaryHit): void {
    const key = `${hit.canary}\0${hit.how}\0${hit.evidence}`;
    if (seen.has(key)) return;
    seen.add(key);
    hits.push(hit);
  }

  for (const file of canaries.files) {
    const access = evidence.files.find((f) => f.path === file.path);
    if (access?.ops.includes('read') && access.failed < access.count) {
      add({
        canary: file.canary,
        how: 'read',
        evidence: `${file.path} opened for reading by pid ${access.pids.join(',')}`,
      });
    }
  }

  // The token is embedded in every value; looking for it too catches values cut or re-encoded.
  const probes = [
    ...canaries.values.map((v) => ({ canary: v.canary, needles: canaryNeedles(v.value) })),
    { canary: 'token', needles: canaryNeedles(canaries.token) },
  ];
  function matchText(text: string): { canary: string; needle: string } | null {
    for (const probe of probes) {
      const needle = findNeedle(text, probe.needles);
      if (needle !== null) return { canary: probe.canary, needle };
    }
    return null;
  }

  for (const command of evidence.commands) {
    const match = matchText(command.argv.join(' '));
    if (match)
      add({
        canary: match.canary,
        how: 'argv',
        evidence: `pid ${command.pid} ran ${JSON.stringify(command.argv).slice(0, 300)}`,
      });
  }
  for (const query of evidence.dns) {
    const match = matchText(query.name.replaceAll('.', ''));
    if (match)
      add({ canary: match.canary, how: 'dns', evidence: `DNS ${query.type} query for ${query.name}` });
  }
  evidence.connections.forEach((connection, i) => {
    const payload = evidence.payloads[i];
    const text = payload ? Buffer.from(payload).toString('latin1') : connection.sent_preview;
    const match = matchText(text);
    if (match) {
      const where = `${connection.protocol} ${connection.hostname ?? connection.ip}:${connection.port}`;
      const at = text.indexOf(match.needle);
      const context = at >= 0 ? text.slice(Math.max(0, at - 40), at + match.needle.length + 40) : '';
      add({ canary: match.canary, how: 'sent', evidence: `sent to ${where}: ${JSON.stringify(context)}` });
    }
  });
  for (const path of evidence.indexPaths) {
    const match = matchText(decodeURIComponent(path));
    if (match)
      add({ canary: match.canary, how: 'sent', evidence: `requested from the index proxy: ${path}` });
  }
  return hits;
}
