import type { Attribution, BehaviourRecord, Phase, Verdict } from '../record/schema.ts';

/** Options for the readable summary. `maxItems` caps each list; the JSON record has everything. */
export interface SummaryOptions {
  maxItems?: number;
  color?: boolean;
}

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument the way a POSIX shell would need it, so argv reads as a command line. */
export function shellQuote(arg: string): string {
  if (arg.length > 0 && SAFE_ARG.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Replaces control characters so package-controlled text cannot drive the terminal. */
export function sanitizeForTerminal(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    const control = (code < 0x20 && code !== 0x0a && code !== 0x09) || code === 0x7f || code === 0x9b;
    out += control ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

function _culpritLabel(a: Attribution): string {
  if (a.kind === 'dependency') return `dependency ${a.distribution ?? '?'}`;
  if (a.kind === 'build_dependency') return `build dependency ${a.distribution ?? '?'}`;
  // kind `pip` means the installer itself; npm's attribution marks it with method `npm`.
  if (a.kind === 'pip') return a.method === 'npm' ? 'npm' : 'pip';
  return 'an unattributed process';
}

/**
 * ` (by dependency X)` when something other than the package caused a behaviour, ` (also by
 * ...)` when the package did too; nothing for the package's own (or a record without attribution).
 */
export function attributionNote(by: Attribution | readonly Attribution[] | undefined): string {
  const all =
    by === undefined ? [] : Array.isArray(by) ? (by as readonly Attribution[]) : [by as Attribution];
  const others = [...new Set(all.filter((a) => a.kind !== 'package').map(_culpritLabel))];
  if (others.length === 0) return '';
  const also = all.some((a) => a.kind === 'package') ? 'also ' : '';
  return ` (${also}by ${others.join(', ')})`;
}

/** Renders a list, folding identical lines (setup.py runs once per build hook) into one with a count. */
function list<T>(items: readonly T[], max: number, render: (item: T) => string): string[] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const line = sanitizeForTerminal(render(item));
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  const unique = [...counts.entries()];
  const lines = unique.slice(0, max).map(([line, n]) => `    ${n > 1 ? `(x${n}) ` : ''}${line}`);
  if (unique.length > max) lines.push(`    ... and ${unique.length - max} more (see --json)`);
  return lines;
}

function renderPhase(name: string, phase: Phase, options: Required<SummaryOptions>): string[] {
  const bold = (t: string) => (options.color ? `\x1b[1m${t}\x1b[0m` : t);
  const max = options.maxItems;
  const out: string[] = [];
  const limits = phase.limits_hit.length > 0 ? `, limits hit: ${phase.limits_hit.join(', ')}` : '';
  const exit = phase.exit_code === null ? '' : `, exit ${phase.exit_code}`;
  out.push(
    bold(`Phase ${name}: ${phase.status}${exit} in ${(phase.duration_ms / 1000).toFixed(1)} s${limits}`),
  );
  if (phase.reason) out.push(`  reason: ${sanitizeForTerminal(phase.reason)}`);

  out.push(`  Connections (${phase.connections.length}):${phase.connections.length === 0 ? ' none' : ''}`);
  out.push(
    ...list(phase.connections, max, (c) => {
      const where = `${c.protocol} ${c.hostname ? `${c.hostname} (${c.ip})` : c.ip}:${c.port}`;
      const http = c.http ? ` HTTP ${c.http.method} ${c.http.host ?? ''}${c.http.path}` : '';
      const sni = c.tls_sni ? ` TLS SNI ${c.tls_sni}` : '';
      const preview =
        c.sent_bytes > 0 ? `\n      sent ${c.sent_bytes} B: ${c.sent_preview.slice(0, 160)}` : '';
      return `${where}${http}${sni}${attributionNote(c.by)}${preview}`;
    }),
  );
  out.push(`  DNS lookups (${phase.dns.length}):${phase.dns.length === 0 ? ' none' : ''}`);
  out.push(
    ...list(
      phase.dns,
      max,
      (d) => `${d.name} ${d.type}${d.server ? ` via ${d.server}` : ''}${attributionNote(d.by)}`,
    ),
  );
  out.push(`  Commands executed (${phase.commands.length}):${phase.commands.length === 0 ? ' none' : ''}`);
  out.push(
    ...list(
      phase.commands,
      max,
      (c) => `[${c.pid}] ${c.argv.map(shellQuote).join(' ')}${attributionNote(c.by)}`,
    ),
  );

  const changed = phase.files.filter((f) => f.ops.some((op) => op !== 'read'));
  const read = phase.files.filter((f) => f.ops.every((op) => op === 'read') && f.failed < f.count);
  out.push(
    `  Files written or changed outside the install (${changed.length}):${changed.length === 0 ? ' none' : ''}`,
  );
  out.push(...list(changed, max, (f) => `${f.ops.join(',')} ${f.path}${attributionNote(f.by)}`));
  out.push(
    `  Files read outside the install and system dirs (${read.length}):${read.length === 0 ? ' none' : ''}`,
  );
  out.push(...list(read, max, (f) => `${f.path}${attributionNote(f.by)}`));
  out.push(`  Canaries touched (${phase.canaries.length}):${phase.canaries.length === 0 ? ' none' : ''}`);
  out.push(
    ...list(phase.canaries, max, (c) => `${c.canary} [${c.how}] ${c.evidence}${attributionNote(c.by)}`),
  );
  if (phase.survivors.length > 0) {
    out.push(`  Processes that outlived the phase (${phase.survivors.length}):`);
    out.push(
      ...list(
        phase.survivors,
        max,
        (s) => `[${s.pid}] ${s.argv.map(shellQuote).join(' ')}${s.killed ? ' (killed)' : ''}`,
      ),
    );
  }
  if (phase.modules.length > 0) {
    out.push(`  Modules imported (${phase.modules.length}):`);
    out.push(...list(phase.modules, max, (m) => `${m.module}: ${m.status}${m.error ? ` (${m.error})` : ''}`));
  }
  if (phase.file_summary.length > 0) {
    const areas = phase.file_summary.map((a) => `${a.area} ${a.count} (${a.writes} writes)`).join(', ');
    out.push(`  Summarised file accesses: ${areas}`);
  }
  return out;
}

function renderVerdict(verdict: Verdict, options: Required<SummaryOptions>): string[] {
  const paint = (code: string, t: string) => (options.color ? `\x1b[${code}m${t}\x1b[0m` : t);
  const colour = verdict.level === 'malicious' ? '1;31' : verdict.level === 'suspicious' ? '1;33' : '1;32';
  const out = [paint(colour, `Verdict: ${verdict.level.toUpperCase()} (score ${verdict.score}/100)`)];
  if (verdict.static_files === null) out.push('  static scan: not run (artifact unreadable or unknown)');
  for (const f of verdict.findings.slice(0, options.maxItems)) {
    const who = f.culprit?.distribution ? ` by ${f.culprit.kind} ${f.culprit.distribution}` : '';
    const attack = f.attack ? ` ${f.attack}` : '';
    out.push(
      sanitizeForTerminal(
        `  [${f.severity}] ${f.rule} (${f.phase}${who}, +${f.points}${attack}): ${f.title}`,
      ),
    );
    if (f.population) out.push(sanitizeForTerminal(`      population: ${f.population}`));
    if (f.dismissed) out.push(sanitizeForTerminal(`      dismissed: ${f.dismissed}`));
    for (const e of f.evidence.slice(0, 3)) out.push(sanitizeForTerminal(`      ${e.pointer}  ${e.text}`));
    if (f.evidence.length > 3) out.push(`      ... ${f.evidence.length - 3} more (see --json)`);
  }
  if (verdict.findings.length > options.maxItems)
    out.push(`  ... and ${verdict.findings.length - options.maxItems} more findings (see --json)`);
  return out;
}

/** The readable summary `analyze` prints without --json. */
export function renderSummary(record: BehaviourRecord, options: SummaryOptions = {}): string {
  const opts: Required<SummaryOptions> = { maxItems: options.maxItems ?? 15, color: options.color ?? false };
  const p = record.package;
  const lines: string[] = [];
  lines.push(`${p.name} ${p.version ?? '(unknown version)'} [${p.ecosystem}, from ${p.source}]`);
  if (p.artifact)
    lines.push(`  artifact: ${p.artifact.filename} sha256 ${p.artifact.sha256} (${p.artifact.size} B)`);
  lines.push(
    `  sandbox: tracer ${record.sandbox.tracer}, run ${record.run_id}, canary token ${record.sandbox.canary_token}`,
  );
  if (record.verdict) lines.push('', ...renderVerdict(record.verdict, opts));
  for (const name of ['install', 'import'] as const) {
    const phase = record.phases[name];
    if (phase) lines.push('', ...renderPhase(name, phase, opts));
  }
  const indexBytes = record.index_requests.reduce((sum, r) => sum + r.bytes, 0);
  lines.push(
    '',
    `Index requests (${p.ecosystem === 'npm' ? 'npm' : 'pip'}'s own traffic, kept apart): ${record.index_requests.length}, ${indexBytes} B`,
  );
  return `${lines.join('\n')}\n`;
}
