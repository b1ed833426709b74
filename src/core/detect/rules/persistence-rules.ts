import { PERSISTENCE_PLACES } from '../indicators.ts';
import { baseName, showArgv, tildePath } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';
import { scriptCommands, shellScript } from './exec-rules.ts';

const WRITE_OPS = new Set(['write', 'create', 'rename', 'chmod']);

/** Commands that install persistence on their own, keyed by the place id they belong to. */
const PERSISTENCE_COMMANDS: Record<string, (argv: readonly string[]) => boolean> = {
  'persist.cron': (argv) => baseName(argv[0] ?? '') === 'crontab' && !argv.slice(1).some((a) => a === '-l'),
  'persist.systemd': (argv) => baseName(argv[0] ?? '') === 'systemctl' && argv.some((a) => a === 'enable'),
};

function placeRule(place: (typeof PERSISTENCE_PLACES)[number]): Rule {
  const patterns = place.patterns.map((p) => new RegExp(p));
  const byCommand = PERSISTENCE_COMMANDS[place.id];
  return {
    id: place.id,
    severity: 'high',
    title: place.title,
    description: `Writes to a place that runs code again later (${place.patterns.join(', ')})${byCommand ? ', or runs the command that installs it' : ''}. Python start-up files count only outside the venv.`,
    attack: place.attack,
    match(_record, view) {
      const hits: RuleHit[] = [];
      for (const p of view.phases) {
        for (const f of p.files) {
          if (!f.value.ops.some((op) => WRITE_OPS.has(op))) continue;
          const path = tildePath(f.value.path);
          if (!patterns.some((r) => r.test(path))) continue;
          hits.push({
            phase: p.name,
            culprit: f.culprit,
            evidence: [{ pointer: f.pointer, text: `${f.value.path} (${f.value.ops.join(',')})` }],
            population: { kind: 'path', key: f.value.path },
          });
        }
        if (byCommand === undefined) continue;
        for (const c of p.commands) {
          const script = shellScript(c.value.argv);
          const fromScript =
            script !== null && scriptCommands(script).some((w) => byCommand([w, ...script.split(/\s+/)]));
          if (byCommand(c.value.argv) || fromScript)
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
}

export const persistenceRules: Rule[] = PERSISTENCE_PLACES.map(placeRule);
