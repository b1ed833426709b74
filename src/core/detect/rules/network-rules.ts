import type { Connection } from '../../record/schema.ts';
import { CLOUD_METADATA_ADDRESSES, OOB_SERVICE_SUFFIXES } from '../indicators.ts';
import { destinationOf, showArgv } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';

function describe(c: Connection): string {
  const sent = c.sent_preview.length > 80 ? `${c.sent_preview.slice(0, 80)}…` : c.sent_preview;
  return `${c.protocol} ${destinationOf(c)} (${c.ip}):${c.port}, ${c.sent_bytes} bytes sent${sent ? `: ${sent}` : ''}`;
}

/** Matches a host name or a URL-ish text against a suffix list (`a.oast.fun` matches `oast.fun`). */
export function matchesService(text: string, suffixes: readonly string[]): string | null {
  const lower = text.toLowerCase();
  for (const suffix of suffixes) {
    if (suffix.includes('/')) {
      if (lower.includes(suffix)) return suffix;
    } else if (lower === suffix || lower.endsWith(`.${suffix}`)) return suffix;
  }
  return null;
}

export const outboundRule: Rule = {
  id: 'net.outbound',
  severity: 'medium',
  title: 'contacts the network (anything but the package index)',
  description:
    'A connection or a DNS query during install or import. The sandbox only offers the index, through a proxy that is not a network peer, so anything here is the code reaching out on its own.',
  attack: 'T1071',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      const connected = new Set(p.connections.map((c) => c.value.hostname?.toLowerCase()));
      for (const c of p.connections) {
        hits.push({
          phase: p.name,
          culprit: c.culprit,
          evidence: [{ pointer: c.pointer, text: describe(c.value) }],
          population: { kind: 'host', key: destinationOf(c.value) },
        });
      }
      for (const d of p.dns) {
        if (connected.has(d.value.name.toLowerCase().replace(/\.$/, ''))) continue;
        hits.push({
          phase: p.name,
          culprit: d.culprit,
          evidence: [{ pointer: d.pointer, text: `DNS ${d.value.type} query for ${d.value.name}` }],
          population: { kind: 'dns', key: d.value.name },
        });
      }
    }
    return hits;
  },
};

export const cloudMetadataRule: Rule = {
  id: 'net.cloud-metadata',
  severity: 'high',
  title: 'reaches for the cloud instance metadata service (credentials)',
  description:
    'A connection to, DNS query for, or command naming a cloud metadata address (169.254.169.254, fd00:ec2::254, metadata.google.internal, ...), where instance credentials are served.',
  attack: 'T1552.005',
  match(_record, view) {
    const hits: RuleHit[] = [];
    const isMetadata = (text: string) =>
      CLOUD_METADATA_ADDRESSES.some((a) => text.toLowerCase().includes(a.toLowerCase()));
    for (const p of view.phases) {
      for (const c of p.connections) {
        const named = [c.value.ip, c.value.hostname ?? '', c.value.http?.host ?? '', c.value.tls_sni ?? ''];
        if (named.some(isMetadata))
          hits.push({
            phase: p.name,
            culprit: c.culprit,
            evidence: [{ pointer: c.pointer, text: describe(c.value) }],
          });
      }
      for (const d of p.dns) {
        if (isMetadata(d.value.name))
          hits.push({
            phase: p.name,
            culprit: d.culprit,
            evidence: [{ pointer: d.pointer, text: `DNS query for ${d.value.name}` }],
          });
      }
      for (const c of p.commands) {
        if (c.value.argv.some(isMetadata))
          hits.push({
            phase: p.name,
            culprit: c.culprit,
            evidence: [{ pointer: c.pointer, text: showArgv(c.value.argv) }],
          });
      }
    }
    return hits;
  },
};

export const oobServiceRule: Rule = {
  id: 'net.oob-service',
  severity: 'high',
  title: 'talks to an out-of-band interaction or request-catching service',
  description:
    'DNS names, hosts or command lines naming services used to confirm blind code execution or to catch stolen data (interactsh/oast, Burp Collaborator, canarytokens, dnslog, pipedream, webhook.site, requestbin, ngrok, Discord webhooks, ...). The list is data in src/core/detect/indicators.ts.',
  attack: 'T1567',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const c of p.connections) {
        const service = matchesService(destinationOf(c.value), OOB_SERVICE_SUFFIXES);
        const url = `${c.value.http?.host ?? ''}${c.value.http?.path ?? ''}`;
        const inUrl = url ? OOB_SERVICE_SUFFIXES.find((s) => s.includes('/') && url.includes(s)) : undefined;
        if (service ?? inUrl)
          hits.push({
            phase: p.name,
            culprit: c.culprit,
            evidence: [{ pointer: c.pointer, text: `${service ?? inUrl}: ${describe(c.value)}` }],
            population: { kind: 'host', key: destinationOf(c.value) },
          });
      }
      for (const d of p.dns) {
        const service = matchesService(d.value.name.replace(/\.$/, ''), OOB_SERVICE_SUFFIXES);
        if (service)
          hits.push({
            phase: p.name,
            culprit: d.culprit,
            evidence: [{ pointer: d.pointer, text: `${service}: DNS query for ${d.value.name}` }],
            population: { kind: 'dns', key: d.value.name },
          });
      }
      for (const c of p.commands) {
        const words = c.value.argv.flatMap((a) => a.split(/[\s'"]+/));
        const service = words
          .map((w) => w.replace(/^[a-z]+:\/\//i, '').split(/[/:]/)[0] ?? '')
          .map((host) => matchesService(host, OOB_SERVICE_SUFFIXES))
          .find((s) => s !== null);
        if (service)
          hits.push({
            phase: p.name,
            culprit: c.culprit,
            evidence: [{ pointer: c.pointer, text: `${service}: ${showArgv(c.value.argv)}` }],
          });
      }
    }
    return hits;
  },
};
