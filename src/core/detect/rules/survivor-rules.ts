import { isBuildOwnCommand } from '../../behaviour/build-own-commands.ts';
import { showArgv } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';

export const survivorRule: Rule = {
  id: 'proc.survivor',
  severity: 'high',
  title: 'leaves a process running after the phase ended (daemon, backdoor)',
  description:
    'A process of the phase was still alive when pip (or the import) returned: something detached itself to keep running. The sandbox killed it.',
  attack: 'T1543',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      p.phase.survivors.forEach((s, i) => {
        if (isBuildOwnCommand(s.argv) || view.allowlist.command(s.argv, p.name) !== null) return;
        const traced = p.commands.find((c) => c.value.pid === s.pid);
        hits.push({
          phase: p.name,
          culprit: traced?.culprit ?? null,
          evidence: [
            {
              pointer: `/phases/${p.name}/survivors/${i}`,
              text: `pid ${s.pid} ${showArgv(s.argv)}${s.killed ? ' (killed by the sandbox)' : ''}`,
            },
          ],
        });
      });
    }
    return hits;
  },
};
