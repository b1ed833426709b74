import { escapeHtml } from './escape-html.ts';
import type { BehaviourRow, CountPair, StudyReport } from './study-report.ts';
import { svgBarChart } from './svg-bar-chart.ts';

const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right}code{font-size:12px;word-break:break-all}
.lvl-malicious{color:#b00;font-weight:bold}.lvl-suspicious{color:#c60;font-weight:bold}.chart{display:block;margin:.5em 0}
.kpi{display:inline-block;border:1px solid #ccc;border-radius:4px;padding:.5em 1em;margin:0 .5em .5em 0}.kpi b{font-size:20px;display:block}`;

function _kpi(label: string, pair: CountPair): string {
  return `<div class="kpi"><b>${pair.raw} / ${pair.own}</b>${escapeHtml(label)}<br><small>all / without dependency-induced</small></div>`;
}

function _chart(rows: readonly BehaviourRow[]): string {
  if (rows.length === 0) return '<p>(none)</p>';
  return svgBarChart(
    rows.map((r) => ({ label: r.key, values: [r.packages, r.packages_own] })),
    { series: ['all packages', "package's own"] },
  );
}

function _table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '<p>(none)</p>';
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<table><tr>${head}</tr>\n${body}</table>`;
}

function _behaviourTable(rows: readonly BehaviourRow[], what: string): string {
  return _table(
    [what, 'packages', 'packages (own)', 'example'],
    rows.map((r) => [
      `<code>${escapeHtml(r.key)}</code>`,
      String(r.packages),
      String(r.packages_own),
      `<code>${escapeHtml(r.example.slice(0, 300))}</code>`,
    ]),
  );
}

/**
 * The study report as one self-contained HTML page: inline CSS and SVG charts, no script, no
 * link or image to fetch, every package-controlled string escaped.
 */
export function renderReportHtml(
  report: StudyReport,
  options: { generatedAt: string; source: string },
): string {
  const s = report.suspicious;
  const suspiciousRows = s.top.map((p) => [
    escapeHtml(`${p.package} ${p.version ?? ''}`),
    `<span class="lvl-${escapeHtml(p.level)}">${escapeHtml(p.level)}</span>`,
    String(p.score),
    `<ul>${p.findings
      .map(
        (f) =>
          `<li><b>${escapeHtml(f.severity)}</b> ${escapeHtml(f.title)} <small>(${escapeHtml(f.rule)})</small><ul>${f.evidence
            .map((e) => `<li><code>${escapeHtml(e.pointer)}</code> ${escapeHtml(e.text.slice(0, 300))}</li>`)
            .join('')}</ul></li>`,
      )
      .join('')}</ul>`,
  ]);
  const outcomeRows = Object.keys({ ...report.outcomes.install, ...report.outcomes.import })
    .sort()
    .map((status) => [
      escapeHtml(status),
      String(report.outcomes.install[status] ?? 0),
      String(report.outcomes.import[status] ?? 0),
    ]);
  const connectedRows = report.connected_during_install.list.map((c) => [
    escapeHtml(`${c.package} ${c.version ?? ''}`),
    c.own ? 'yes' : 'no (dependency)',
    `<code>${escapeHtml(c.hosts.join(', '))}</code>`,
  ]);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pkghunt report</title><style>${STYLE}</style></head>
<body>
<h1>pkghunt report</h1>
<p>${report.packages} analysed projects (the latest analysed release of each; counts raw and without dependency-induced behaviour) from ${escapeHtml(options.source)}, generated ${escapeHtml(options.generatedAt)}.
Each number is given for all behaviour and for the package's own (behaviour attributed only to a dependency, a build dependency or pip removed).</p>
${_kpi('packages connected out during install', report.connected_during_install.packages)}
${_kpi('unique hosts contacted', report.hosts.unique)}
${_kpi('unique DNS names looked up', report.dns.unique)}
${_kpi('packages that executed commands', report.commands.packages)}
<div class="kpi"><b>${s.packages}</b>suspicious or malicious verdicts</div>
<h2>Top suspicious packages</h2>
${_table(['package', 'level', 'score', 'findings and evidence'], suspiciousRows)}
<h2>Hosts contacted, by number of packages</h2>
${_chart(report.hosts.rows)}
${_behaviourTable(report.hosts.rows, 'host')}
<h2>DNS names looked up, by number of packages</h2>
${_chart(report.dns.rows)}
${_behaviourTable(report.dns.rows, 'name')}
<h2>Most common commands</h2>
${_chart(report.commands.rows)}
${_behaviourTable(report.commands.rows, 'command (shape)')}
<h2>Packages that connected out during install</h2>
${_table(['package', 'own doing', 'hosts'], connectedRows)}
<h2>Outcomes</h2>
${_table(['status', 'install', 'import'], outcomeRows)}
</body></html>
`;
}
