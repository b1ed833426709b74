import type { StudyReport } from '../../report/study-report.ts';
import { svgBarChart } from '../../report/svg-bar-chart.ts';
import { html, type SafeHtml, trustedHtml } from '../html.ts';
import { layout, levelBadge, packageLink, type ResultRow } from './layout.ts';

export interface OverviewData {
  perDay: { day: string; packages: number }[];
  verdicts: { level: string; packages: number }[];
  report: StudyReport;
  recent: ResultRow[];
  latestId: number;
  source: string;
  triageEnabled: boolean;
}

/** A chart and its numbers side by side. svgBarChart escapes its labels, so its markup is ours. */
function _chartWithTable(
  rows: readonly { label: string; values: number[] }[],
  options: { series: string[]; columns: string[] },
): SafeHtml {
  if (rows.length === 0) return html`<p class="empty">(none yet)</p>`;
  return html`<div class="chart-row"><div class="chart-box">${trustedHtml(svgBarChart(rows, { series: options.series }))}</div>
<table class="numbers"><thead><tr>${options.columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr><td><code>${r.label}</code></td>${r.values.map((v) => html`<td class="n">${v}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

export function resultRow(r: ResultRow): SafeHtml {
  return html`<tr data-id="${r.id}"><td>${r.storedAt.slice(0, 19).replace('T', ' ')}</td><td>${packageLink(r.project, r.version)}</td><td>${levelBadge(r.verdictLevel)}</td><td class="n">${r.verdictScore ?? ''}</td></tr>`;
}

export function renderOverviewPage(data: OverviewData): string {
  const { report } = data;
  const behaviour = (rows: StudyReport['hosts']['rows'], what: string) =>
    _chartWithTable(
      rows.map((r) => ({ label: r.key, values: [r.packages, r.packages_own] })),
      { series: ['all packages', "package's own"], columns: [what, 'packages', 'own'] },
    );
  const body = html`<p class="lead">${report.packages} analysed releases (latest result of each) in ${data.source}.
"own" leaves out behaviour attribution puts only on a dependency, a build dependency or pip.</p>
<section class="kpis">
<div class="kpi"><strong>${report.packages}</strong>releases analysed</div>
<div class="kpi"><strong>${report.suspicious.packages}</strong>suspicious or malicious</div>
<div class="kpi"><strong>${report.connected_during_install.packages.raw} / ${report.connected_during_install.packages.own}</strong>connected out during install (all / own)</div>
<div class="kpi"><strong>${report.hosts.unique.raw}</strong>unique hosts</div>
<div class="kpi"><strong>${report.dns.unique.raw}</strong>unique DNS names</div>
</section>
<section><h2>Live: latest verdicts</h2>
<table class="feed"><thead><tr><th>stored (UTC)</th><th>package</th><th>verdict</th><th>score</th></tr></thead>
<tbody id="live-feed">${data.recent.map(resultRow)}</tbody></table></section>
<section><h2>Packages analysed per day</h2>
${_chartWithTable(
  data.perDay.map((d) => ({ label: d.day, values: [d.packages] })),
  { series: ['results stored'], columns: ['day (UTC)', 'results'] },
)}</section>
<section><h2>Verdicts</h2>
${_chartWithTable(
  data.verdicts.map((v) => ({ label: v.level, values: [v.packages] })),
  { series: ['releases'], columns: ['verdict', 'releases'] },
)}</section>
<section><h2>Most contacted hosts</h2>${behaviour(report.hosts.rows, 'host')}</section>
<section><h2>DNS names looked up</h2>${behaviour(report.dns.rows, 'name')}</section>
<section><h2>Most common commands during install and import (shapes)</h2>${behaviour(report.commands.rows, 'command')}</section>`;
  return layout({
    title: 'Overview',
    section: 'overview',
    triageEnabled: data.triageEnabled,
    body,
    liveAfter: data.latestId,
  });
}
