import type { CanaryHit, FileAccess } from '../../record/schema.ts';
import type { PhaseView } from '../record-view.ts';
import type { Culprit, Rule, RuleHit } from '../rule.ts';
import { npmNetworkSilent } from './npm-rules.ts';

/** The file access the canary hit refers to (its path is in the evidence text), if any. */
function fileOf(view: PhaseView, hit: CanaryHit): { culprit: Culprit | null } | 'pip' | null {
  // The evidence names the file ("PATH opened for reading by pid N"); its directories may be in the
  // phase too ("/builds/app" for "/builds/app/.git/config"), so the longest path named is the file.
  let inPhase: FileAccess | undefined;
  for (const f of view.phase.files) {
    if (hit.evidence.includes(f.path) && f.path.length > (inPhase?.path.length ?? -1)) inPhase = f;
  }
  if (inPhase === undefined) return null;
  const kept = view.files.find((f) => f.value === inPhase);
  return kept === undefined ? 'pip' : { culprit: kept.culprit };
}

function pidsOf(hit: CanaryHit): number[] {
  const match = /by pids? ([\d, ]+)/.exec(hit.evidence);
  return match?.[1] === undefined ? [] : match[1].split(/[, ]+/).filter(Boolean).map(Number);
}

function canaryHits(view: PhaseView, hows: readonly CanaryHit['how'][]) {
  return view.phase.canaries
    .map((hit, i) => ({ hit, pointer: `/phases/${view.name}/canaries/${i}` }))
    .filter(({ hit }) => hows.includes(hit.how));
}

export const canaryReadRule: Rule = {
  id: 'canary.read',
  severity: 'high',
  title: 'reads a planted secret (canary credential file)',
  description:
    "The sandbox plants fake credentials (cloud keys, tokens in .git/config, SSH keys, .pypirc, ...). Opening one for reading is credential access; pip and allowlisted build tools reading it are ignored. In an npm record with no network activity at all, a read of ~/.npmrc (npm's own config file, which JavaScript config loaders read) is left to npm.npmrc-read.",
  attack: 'T1552.001',
  match(record, view) {
    const hits: RuleHit[] = [];
    const npmSilent = npmNetworkSilent(record, view);
    for (const p of view.phases) {
      for (const { hit, pointer } of canaryHits(p, ['read'])) {
        if (npmSilent && hit.canary === 'npmrc') continue;
        const pids = pidsOf(hit);
        if (pids.length > 0 && pids.every((pid) => p.benignPids.has(pid))) continue;
        const file = fileOf(p, hit);
        if (file === 'pip') continue;
        hits.push({
          phase: p.name,
          culprit: file?.culprit ?? null,
          evidence: [{ pointer, text: `${hit.canary}: ${hit.evidence}` }],
        });
      }
    }
    return hits;
  },
};

export const canaryExfilRule: Rule = {
  id: 'canary.exfil',
  severity: 'critical',
  title: 'sends a planted secret out (confirmed credential theft)',
  description:
    'A canary value left the process: in bytes sent over a connection, in a DNS label, or in the argv of a command. Only theft explains it.',
  attack: 'T1041',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const { hit, pointer } of canaryHits(p, ['sent', 'dns', 'argv'])) {
        const sentOn = p.connections.find((c) =>
          hit.evidence.includes(`${c.value.hostname ?? c.value.ip}:${c.value.port}`),
        );
        hits.push({
          phase: p.name,
          culprit: sentOn?.culprit ?? null,
          evidence: [
            { pointer, text: `${hit.canary} (${hit.how}): ${hit.evidence}` },
            ...(sentOn ? [{ pointer: sentOn.pointer, text: `the connection it went out on` }] : []),
          ],
        });
      }
    }
    return hits;
  },
};
