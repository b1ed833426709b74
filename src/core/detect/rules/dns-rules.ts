import type { Rule, RuleHit } from '../rule.ts';

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A label that carries data rather than a name: long and made of one encoding's alphabet
 * (hex, base32, base64url), with the entropy of encoded bytes. Dictionary-ish long labels
 * (`my-very-long-product-name`) have hyphens and vowels' low entropy and do not match.
 */
export function looksEncodedLabel(label: string): boolean {
  if (label.length < 24) return false;
  if (/^[0-9a-f]+$/i.test(label)) return label.length >= 24 && /[0-9]/.test(label) && /[a-f]/i.test(label);
  if (/^[a-z2-7]+=*$/i.test(label) || /^[A-Za-z0-9_-]+$/.test(label)) {
    return /[0-9]/.test(label) && entropy(label) >= 4.0;
  }
  return false;
}

export const dnsTunnelRule: Rule = {
  id: 'dns.tunnel',
  severity: 'high',
  title: 'DNS names that look like data tunnelled out (long encoded labels)',
  description:
    'A queried name with a long hex/base32/base64 label, or a very long name overall: the shape of data smuggled out in DNS queries, which pass most firewalls.',
  attack: 'T1048.003',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const d of p.dns) {
        const name = d.value.name.replace(/\.$/, '');
        const labels = name.split('.');
        const encoded = labels.find(looksEncodedLabel);
        if (encoded === undefined && name.length < 120) continue;
        hits.push({
          phase: p.name,
          culprit: d.culprit,
          evidence: [
            {
              pointer: d.pointer,
              text: encoded
                ? `encoded-looking label "${encoded}" in ${name}`
                : `${name.length}-character name ${name}`,
            },
          ],
        });
      }
    }
    return hits;
  },
};
