import { LOG_PATTERNS, PYTHON_STDLIB_PATTERN, SYSTEM_BINARY_DIRS } from '../indicators.ts';
import { baseName, showArgv, tildePath } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';
import { shellScript } from './exec-rules.ts';

const MODIFY_OPS = new Set(['write', 'create', 'delete', 'rename', 'chmod']);
const LOGS = LOG_PATTERNS.map((p) => new RegExp(p));
const PYTHON_STDLIB = new RegExp(PYTHON_STDLIB_PATTERN);

/**
 * System executables, libraries and the Python standard library. Byte-code caches are left out:
 * Python itself tries (and is refused) to write `__pycache__/*.pyc` next to stdlib modules.
 */
export function isSystemPath(path: string): boolean {
  if (/\/__pycache__(\/|$)/.test(path)) return false;
  return SYSTEM_BINARY_DIRS.some((d) => path.startsWith(d)) || PYTHON_STDLIB.test(path);
}

export const systemBinaryRule: Rule = {
  id: 'tamper.system-binary',
  severity: 'high',
  title: 'modifies, replaces or deletes system executables or libraries',
  description: `Writes, renames, deletes or chmods under ${SYSTEM_BINARY_DIRS.join(', ')} or the Python standard library (/usr/lib/python3.X/), refused attempts (EACCES, EROFS, EPERM) included: hijacking or breaking tools other software trusts. An attempt is the signal.`,
  attack: 'T1574',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const f of p.files) {
        const ops = f.value.ops.filter((op) => MODIFY_OPS.has(op));
        if (ops.length === 0 || !isSystemPath(f.value.path)) continue;
        // An attempt that failed everywhere (read-only mount, no permission) is still intent.
        hits.push({
          phase: p.name,
          culprit: f.culprit,
          evidence: [
            {
              pointer: f.pointer,
              text: `${f.value.path} (${ops.join(',')}${f.value.failed ? `, ${f.value.failed} refused${f.value.errors.length > 0 ? `: ${f.value.errors.join(',')}` : ''}` : ''})`,
            },
          ],
          population: { kind: 'path', key: f.value.path },
        });
      }
    }
    return hits;
  },
};

const LOG_WIPE =
  /\bhistory\s+-c\b|\bshred\b|\bunset\s+HISTFILE\b|\brm\b[^;&|]*\s(\/var\/log\/|~?\/?[^\s]*_history\b)/;

export const logTamperRule: Rule = {
  id: 'tamper.logs',
  severity: 'high',
  title: 'erases or rewrites logs or shell history',
  description:
    'Writes, deletes or renames files under /var/log or shell history files, or runs history -c, shred, unset HISTFILE.',
  attack: 'T1070.002',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const f of p.files) {
        const ops = f.value.ops.filter((op) => MODIFY_OPS.has(op));
        if (ops.length === 0 || !LOGS.some((r) => r.test(tildePath(f.value.path)))) continue;
        hits.push({
          phase: p.name,
          culprit: f.culprit,
          evidence: [{ pointer: f.pointer, text: `${f.value.path} (${ops.join(',')})` }],
        });
      }
      for (const c of p.commands) {
        const line = shellScript(c.value.argv) ?? c.value.argv.join(' ');
        if (LOG_WIPE.test(line))
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

function isTmpOrHome(path: string): boolean {
  return (
    path.startsWith('/tmp/') ||
    path.startsWith('/var/tmp/') ||
    path.startsWith('/dev/shm/') ||
    tildePath(path).startsWith('~/')
  );
}

/** True when a chmod's recorded mode sets an execute bit, or the mode is not readable. */
function setsExec(flags: readonly string[]): boolean {
  const modes = flags
    .map((f) => /^mode (0?[0-7]{3,4})$/.exec(f)?.[1])
    .filter((m): m is string => m !== undefined);
  if (modes.length === 0) return true;
  return modes.some((m) => (Number.parseInt(m, 8) & 0o111) !== 0);
}

export const chmodExecRule: Rule = {
  id: 'fs.chmod-exec',
  severity: 'medium',
  title: 'marks a file executable in /tmp or the home directory',
  description:
    'chmod with an execute bit on a file in /tmp, /var/tmp, /dev/shm or the home directory: staging something to run.',
  attack: 'T1222.002',
  match(_record, view) {
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const f of p.files) {
        if (!f.value.ops.includes('chmod') || !isTmpOrHome(f.value.path) || !setsExec(f.value.flags))
          continue;
        hits.push({
          phase: p.name,
          culprit: f.culprit,
          evidence: [
            {
              pointer: f.pointer,
              text: `${f.value.path} (${f.value.flags.filter((x) => x.startsWith('mode')).join(',') || 'chmod'})`,
            },
          ],
          population: { kind: 'path', key: f.value.path },
        });
      }
      for (const c of p.commands) {
        const [exe = '', ...args] = c.value.argv;
        if (baseName(exe) !== 'chmod') continue;
        const mode = args.find((a) => !a.startsWith('/'));
        const executable =
          mode !== undefined && (/\+[rwx]*x/.test(mode) || /^0?[0-7]*[1357][0-7]{0,2}$/.test(mode));
        if (executable && args.some(isTmpOrHome))
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
