import type { Attribution } from '../record/schema.ts';
import { sanitizeForTerminal } from '../summary/render-summary.ts';
import type { DiffItem, DiffSide, RecordDiff } from './diff-records.ts';

const TITLES: Record<keyof DiffSide, string> = {
  hosts: 'hosts contacted',
  dns: 'DNS names looked up',
  commands: 'commands executed',
  file_writes: 'files written outside the venv',
};

function _by(by: readonly Attribution[]): string {
  if (by.length === 0) return '';
  return ` (by ${by.map((b) => (b.distribution === null ? b.kind : `${b.kind} ${b.distribution}`)).join(', ')})`;
}

function _items(sign: string, items: readonly DiffItem[]): string[] {
  return items.map(
    (i) => `    ${sign} ${sanitizeForTerminal(i.example).slice(0, 200)}${sanitizeForTerminal(_by(i.by))}`,
  );
}

/** The diff as text for the terminal; package-controlled text is sanitised. */
export function renderDiff(diff: RecordDiff): string {
  const lines = [`${sanitizeForTerminal(diff.name)} ${diff.from ?? '?'} -> ${diff.to ?? '?'}`];
  let changes = 0;
  for (const field of Object.keys(TITLES) as (keyof DiffSide)[]) {
    const added = diff.new[field];
    const gone = diff.gone[field];
    if (added.length === 0 && gone.length === 0) continue;
    changes++;
    lines.push(`  ${TITLES[field]}:`, ..._items('+', added), ..._items('-', gone));
  }
  if (changes === 0) lines.push('  no new or gone hosts, DNS names, commands or file writes');
  return `${lines.join('\n')}\n`;
}
