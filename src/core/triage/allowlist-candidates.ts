import type { Allowlist, AllowlistFile } from '../detect/allowlist.ts';
import type { BehaviourRecord, PhaseName } from '../record/schema.ts';
import type { Decision } from './decision.ts';

export interface SkippedEvidence {
  decision: number;
  pointer: string;
  reason: string;
}

export interface AllowlistCandidates {
  /** In data/allowlist.json's format: review, generalise and merge by hand. */
  file: AllowlistFile;
  /** Evidence of false positives that the allowlist cannot express, or that it already allows. */
  skipped: SkippedEvidence[];
}

const POINTER = /^\/phases\/(install|import)\/(commands|files)\/(\d+)$/;

function _escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function _reason(d: Decision, rule: string): string {
  const who = d.analyst ? ` by ${d.analyst}` : '';
  const comment = d.comment.trim() === '' ? '' : `: ${d.comment.trim()}`;
  return `false positive of ${rule} in ${d.project} ${d.version} (triage #${d.id}${who}, ${d.decidedAt.slice(0, 10)})${comment}`;
}

/**
 * Turns false-positive decisions into allowlist candidates: each command or file a dismissed
 * finding points at becomes an exact-match entry (the reviewer generalises it before committing).
 * Connections, DNS names, canaries and static `FILE:LINE` evidence have no allowlist form and are
 * listed as skipped, as is anything the current allowlist already allows.
 */
export function allowlistCandidates(
  items: readonly { decision: Decision; record: BehaviourRecord }[],
  options: { existing: Allowlist },
): AllowlistCandidates {
  const file: AllowlistFile = { commands: [], paths: [] };
  const skipped: SkippedEvidence[] = [];
  const seen = new Set<string>();
  for (const { decision, record } of items) {
    if (decision.label !== 'false_positive') continue;
    const findings = (record.verdict?.findings ?? []).filter(
      (f) => decision.rule === null || f.rule === decision.rule,
    );
    let n = 0;
    for (const finding of findings) {
      for (const { pointer } of finding.evidence) {
        const skip = (reason: string) => skipped.push({ decision: decision.id, pointer, reason });
        const match = POINTER.exec(pointer);
        if (match === null) {
          skip(
            'the allowlist holds commands and paths only (connections, DNS, canaries, static code are not allowlisted)',
          );
          continue;
        }
        const phaseName = match[1] as PhaseName;
        const phase = record.phases[phaseName];
        const index = Number(match[3]);
        const id = `triage-${decision.id}-${++n}`;
        if (match[2] === 'commands') {
          const argv = phase?.commands[index]?.argv;
          if (argv === undefined || argv.length === 0) {
            skip('the pointer names no command in the record');
            continue;
          }
          if (options.existing.command(argv, phaseName) !== null) {
            skip(`already allowed by ${options.existing.command(argv, phaseName)}`);
            continue;
          }
          const [exe = '', ...rest] = argv;
          const base = exe.split('/').pop() ?? exe;
          const entry = {
            id,
            reason: _reason(decision, finding.rule),
            exe: `^${_escapeRegex(base)}$`,
            ...(rest.length > 0 ? { args: `^${_escapeRegex(rest.join(' '))}$` } : {}),
            phases: [phaseName],
          };
          const key = JSON.stringify(['c', entry.exe, entry.args ?? null, phaseName]);
          if (seen.has(key)) continue;
          seen.add(key);
          file.commands.push(entry);
        } else {
          const path = phase?.files[index]?.path;
          if (path === undefined) {
            skip('the pointer names no file in the record');
            continue;
          }
          const allowed = options.existing.path(path);
          if (allowed !== null) {
            skip(`already allowed by ${allowed}`);
            continue;
          }
          const pattern = `^${_escapeRegex(path)}$`;
          if (seen.has(`p${pattern}`)) continue;
          seen.add(`p${pattern}`);
          file.paths.push({ id, reason: _reason(decision, finding.rule), pattern });
        }
      }
    }
  }
  return { file, skipped };
}
