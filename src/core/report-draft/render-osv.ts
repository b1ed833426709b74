import { normalizeName } from '../pypi/normalize-name.ts';
import type { DraftContext } from './draft-context.ts';
import { OSV_SCHEMA_VERSION, type OsvRecord } from './osv-schema.ts';
import { codeSpan, commandLine, oneLine } from './text.ts';

function _section(title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : ['', `### ${title}`, '', ...lines];
}

/** The `details` Markdown: why it is malicious (the findings), then the evidence. */
function _details(ctx: DraftContext): string {
  const { record, evidence: ev } = ctx;
  const verdict = record.verdict;
  const lines = [
    `pkghunt identified '${oneLine(ctx.name)}' @ ${ctx.version === null ? '(unknown version)' : oneLine(ctx.version)} (pypi) as ${verdict?.level ?? 'unscored'}${verdict ? ` (score ${verdict.score}/100)` : ''}: it was installed and imported in an isolated sandbox whose connections end in a sinkhole, with canary credentials planted.`,
    '',
    'It is considered malicious because:',
    '',
    ...(ctx.findings.length === 0
      ? ['- (no detection finding: see the evidence below)']
      : ctx.findings.map(
          (f) =>
            `- ${oneLine(f.title)} (${f.rule}, ${f.severity}, ${f.phase}${f.attack ? `, ATT&CK ${f.attack}` : ''})`,
        )),
    '',
    '## Evidence',
  ];
  const artifact = record.package.artifact;
  if (artifact)
    lines.push('', `Artifact ${codeSpan(oneLine(artifact.filename))}, sha256 ${codeSpan(artifact.sha256)}.`);
  lines.push(
    ..._section(
      'Network contacts',
      ev.contacts.map((c) => {
        const where = c.host ? `${oneLine(c.host)}:${c.port} (${c.ip})` : `${c.ip}:${c.port}`;
        const sent =
          c.sent_bytes > 0 ? `, ${c.sent_bytes} bytes sent: ${codeSpan(oneLine(c.sent_preview))}` : '';
        const http = c.http ? `, HTTP ${codeSpan(oneLine(c.http))}` : '';
        const times = c.connections > 1 ? ` (${c.connections} connections)` : '';
        return `- ${c.phase}: ${c.protocol} ${codeSpan(where)}${times}${http}${sent}`;
      }),
    ),
    ..._section(
      'DNS lookups',
      ev.dns.map((q) => `- ${q.phase}: ${codeSpan(oneLine(q.name))} (${q.types.join(', ')})`),
    ),
    ..._section(
      'Commands executed',
      ev.commands.map(
        (c) => `- ${c.phase}${c.times > 1 ? ` (x${c.times})` : ''}: ${codeSpan(commandLine(c.argv))}`,
      ),
    ),
    ..._section(
      'Canary credentials touched',
      ev.canaries.map(
        (h) => `- ${h.phase}: ${oneLine(h.canary)} [${h.how}] ${codeSpan(oneLine(h.evidence))}`,
      ),
    ),
    ..._section(
      'Files written outside the install',
      ev.files.map((f) => `- ${f.phase}: ${f.ops.join(',')} ${codeSpan(oneLine(f.path))}`),
    ),
    ..._section(
      'Processes that outlived pip',
      ev.survivors.map((s) => `- ${s.phase}: ${codeSpan(commandLine(s.argv))}${s.killed ? ' (killed)' : ''}`),
    ),
  );
  return `${lines.join('\n')}\n`;
}

/** The OSV record in the malicious-packages form; `OsvRecord.parse` accepts it (tests check). */
export function renderOsv(ctx: DraftContext): OsvRecord {
  const { record } = ctx;
  const versions = ctx.version === null ? null : [ctx.version];
  const affectedVersions = versions
    ? { versions }
    : { ranges: [{ type: 'ECOSYSTEM' as const, events: [{ introduced: '0' }] }] };
  const artifact = record.package.artifact;
  return {
    modified: ctx.time,
    published: ctx.time,
    schema_version: OSV_SCHEMA_VERSION,
    id: ctx.id,
    summary: `Malicious code in ${normalizeName(ctx.name)} (PyPI)`,
    details: _details(ctx),
    affected: [{ package: { ecosystem: 'PyPI', name: normalizeName(ctx.name) }, ...affectedVersions }],
    ...(ctx.projectPage ? { references: [{ type: 'PACKAGE' as const, url: ctx.projectPage }] } : {}),
    credits: [{ name: ctx.credit, type: 'FINDER' }],
    database_specific: {
      'malicious-packages-origins': [
        {
          source: 'pkghunt',
          ...(artifact ? { sha256: artifact.sha256 } : {}),
          import_time: ctx.time,
          modified_time: ctx.time,
          ...affectedVersions,
        },
      ],
      pkghunt: {
        tool_version: record.tool.version,
        run_id: record.run_id,
        analysed_at: record.finished_at,
        artifact,
        verdict: record.verdict
          ? {
              level: record.verdict.level,
              score: record.verdict.score,
              findings: ctx.findings.map((f) => ({
                rule: f.rule,
                severity: f.severity,
                phase: f.phase,
                attack: f.attack,
                title: f.title,
                evidence: f.evidence.map((e) => e.pointer),
              })),
            }
          : null,
        evidence: ctx.evidence,
      },
    },
  };
}
