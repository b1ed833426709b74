import { sanitizeForTerminal } from '../core/summary/render-summary.ts';

/** Rows as an aligned text table; values are sanitised, package-controlled text cannot drive the terminal. */
export function renderTable(
  rows: readonly Record<string, string | number | null>[],
  options: { title?: string } = {},
): string {
  const lines: string[] = [];
  if (options.title) lines.push(options.title);
  const first = rows[0];
  if (first === undefined) {
    lines.push('  (none)');
    return `${lines.join('\n')}\n`;
  }
  const columns = Object.keys(first);
  const cell = (value: string | number | null | undefined): string =>
    sanitizeForTerminal(value === null || value === undefined ? '-' : String(value)).slice(0, 120);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string =>
    `  ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  lines.push(line(columns));
  lines.push(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) lines.push(line(columns.map((c) => cell(row[c]))));
  return `${lines.join('\n')}\n`;
}
