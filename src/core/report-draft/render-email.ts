import type { DraftContext } from './draft-context.ts';
import { commandLine, oneLine } from './text.ts';

function _list<T>(items: readonly T[], max: number, render: (item: T) => string[]): string[] {
  if (items.length === 0) return ['  (none seen)'];
  const lines = items.slice(0, max).flatMap(render);
  if (items.length > max) lines.push(`  ... and ${items.length - max} more (see the attached OSV record)`);
  return lines;
}

function _times(n: number): string {
  return n > 1 ? ` (x${n})` : '';
}

/** The email to the index's security contact: what the release contacts, sends, runs, with the hash. */
export function renderEmail(
  ctx: DraftContext,
  options: { to: string; downloads?: { count: number; days: number; provider: string } | null },
): string {
  const { record, evidence: ev, maxItems: max } = ctx;
  const release = `${oneLine(ctx.name)} ${ctx.version === null ? '(version unknown)' : oneLine(ctx.version)}`;
  const verdict = record.verdict;
  const artifact = record.package.artifact;
  const lines: string[] = [
    `To: ${oneLine(options.to)}`,
    `Subject: Malware report: ${release} (PyPI)`,
    '',
    'Hello,',
    '',
    `We believe the release ${release} on the index is malicious and ask you to remove it.`,
    `pkghunt ${record.tool.version} installed and imported it in an isolated sandbox (no route to any`,
    'real network, every connection answered by a local sinkhole, canary credentials planted) on',
    `${record.finished_at}, run ${record.run_id}.`,
  ];
  if (verdict) {
    lines.push(`Verdict: ${verdict.level.toUpperCase()}, score ${verdict.score}/100.`);
  } else {
    lines.push('Verdict: none (the record was written before detection existed).');
  }
  if (options.downloads) {
    lines.push(
      `It was downloaded ${options.downloads.count} times in the last ${options.downloads.days} days (${options.downloads.provider}).`,
    );
  }
  lines.push('', 'Artifact');
  if (artifact) {
    lines.push(
      `  file:   ${oneLine(artifact.filename)} (${artifact.size} bytes)`,
      `  sha256: ${artifact.sha256}`,
    );
  } else {
    lines.push('  (the record names no artifact)');
  }
  if (ctx.projectPage) lines.push(`  page:   ${ctx.projectPage}`);

  lines.push('', 'Why (detection findings, with pointers into the behaviour record)');
  lines.push(
    ..._list(ctx.findings, max, (f) => [
      `  - [${f.severity}] ${f.rule} (${f.phase}${f.attack ? `, ATT&CK ${f.attack}` : ''}): ${oneLine(f.title)}`,
      ...f.evidence.slice(0, 3).map((e) => `      ${oneLine(e.pointer, 120)}  ${oneLine(e.text, 240)}`),
    ]),
  );

  lines.push('', 'What it contacts (the sinkhole recorded the destination and the first bytes sent)');
  lines.push(
    ..._list(ev.contacts, max, (c) => {
      const where = `${c.protocol} ${c.host ? `${oneLine(c.host)}:${c.port} (${c.ip})` : `${c.ip}:${c.port}`}`;
      const out = [
        `  - ${where} during ${c.phase}, ${c.connections} connection${c.connections > 1 ? 's' : ''}`,
      ];
      if (c.http) out.push(`      HTTP ${oneLine(c.http)}`);
      if (c.tls_sni) out.push(`      TLS SNI ${oneLine(c.tls_sni)}`);
      if (c.sent_bytes > 0) out.push(`      sent ${c.sent_bytes} bytes: ${oneLine(c.sent_preview)}`);
      return out;
    }),
  );
  lines.push('', 'DNS names it looks up');
  lines.push(
    ..._list(ev.dns, max, (q) => [`  - ${oneLine(q.name)} (${q.types.join(', ')}) during ${q.phase}`]),
  );
  lines.push('', 'What it runs');
  lines.push(
    ..._list(ev.commands, max, (c) => [`  - during ${c.phase}${_times(c.times)}: ${commandLine(c.argv)}`]),
  );
  lines.push('', `Planted credentials it touched (canary token of this run: ${record.sandbox.canary_token})`);
  lines.push(
    ..._list(ev.canaries, max, (h) => [
      `  - ${oneLine(h.canary)} [${h.how}] during ${h.phase}: ${oneLine(h.evidence)}`,
    ]),
  );
  lines.push('', 'Files it writes outside its own install');
  lines.push(..._list(ev.files, max, (f) => [`  - ${f.ops.join(',')} ${oneLine(f.path)} during ${f.phase}`]));
  if (ev.survivors.length > 0) {
    lines.push('', 'Processes left running after pip finished');
    lines.push(
      ..._list(ev.survivors, max, (s) => [
        `  - ${commandLine(s.argv)}${s.killed ? ' (killed by the sandbox)' : ''}`,
      ]),
    );
  }
  lines.push(
    '',
    'The canary values are unique to this run and exist nowhere else, so seeing them leave the',
    'sandbox proves the theft. An OSV record for the malicious-packages database is attached',
    `(${ctx.id}; the id is a placeholder until the database assigns one).`,
    '',
    'Regards,',
    oneLine(ctx.credit),
    '',
  );
  return lines.join('\n');
}
