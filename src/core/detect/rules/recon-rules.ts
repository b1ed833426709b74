import { ACCOUNT_FILES, RECON_COMMANDS } from '../indicators.ts';
import { baseName, showArgv } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';
import { scriptCommands, shellScript } from './exec-rules.ts';

/** `env` and `printenv` alone dump the environment; `env X=1 cmd` is just a launcher. */
function reconName(argv: readonly string[]): string | null {
  const name = baseName(argv[0] ?? '');
  if (!RECON_COMMANDS.includes(name)) return null;
  if (name === 'env' && argv.length > 1) return null;
  return name;
}

export const reconCommandRule: Rule = {
  id: 'recon.command',
  severity: 'medium',
  title: 'runs reconnaissance commands (whoami, id, uname -a, hostname, ip, ...)',
  description:
    'Package code asked who and where it runs. One such command weighs medium, two or more distinct ones in a phase high. Build probes (uname -m/-s/-r/-p, lsb_release from pip) are allowlisted.',
  attack: 'T1082',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      const phaseHits: { hit: RuleHit; name: string }[] = [];
      for (const c of p.commands) {
        const direct = reconName(c.value.argv);
        const script = shellScript(c.value.argv);
        const inScript =
          script === null
            ? []
            : scriptCommands(script).filter((w) => RECON_COMMANDS.includes(w) && w !== 'env');
        for (const name of direct ? [direct] : inScript) {
          phaseHits.push({
            name,
            hit: {
              phase: p.name,
              culprit: c.culprit,
              evidence: [{ pointer: c.pointer, text: showArgv(c.value.argv) }],
              population: { kind: 'command', key: c.value.argv.join(' ') },
            },
          });
        }
      }
      const distinct = new Set(phaseHits.map((h) => h.name)).size;
      for (const { hit } of phaseHits) hits.push({ ...hit, severity: distinct >= 2 ? 'high' : 'medium' });
    }
    return hits;
  },
};

export const accountFilesRule: Rule = {
  id: 'recon.account-files',
  severity: 'high',
  title: 'reads account databases (/etc/passwd, /etc/shadow)',
  description:
    'Package code opened /etc/shadow, /etc/gshadow or /etc/sudoers (high), or /etc/passwd or /etc/group (low: libc user lookups read them too).',
  attack: 'T1087.001',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const f of p.files) {
        const account = ACCOUNT_FILES.find((a) => a.path === f.value.path);
        if (account === undefined) continue;
        if (f.value.pids.length > 0 && f.value.pids.every((pid) => p.benignPids.has(pid))) continue;
        hits.push({
          phase: p.name,
          culprit: f.culprit,
          severity: account.secret ? 'high' : 'low',
          evidence: [
            {
              pointer: f.pointer,
              text: `${f.value.path} (${f.value.ops.join(',')}) by pid ${f.value.pids.join(',')}`,
            },
          ],
          population: { kind: 'path', key: f.value.path },
        });
      }
    }
    return hits;
  },
};
