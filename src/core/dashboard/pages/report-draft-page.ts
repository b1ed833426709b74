import type { ReportDraft } from '../../report-draft/render-report-draft.ts';
import { html, type SafeHtml } from '../html.ts';
import { layout, packageHref } from './layout.ts';

/** Where the draft's parts can be downloaded (GET, read-only like every page). */
export function reportDraftHrefs(project: string, version: string) {
  const api = `/api/packages/${encodeURIComponent(project)}/${encodeURIComponent(version)}/report-draft`;
  return {
    page: `${packageHref(project, version)}/report-draft`,
    json: api,
    email: `${api}/email.txt`,
    osv: `${api}/osv.json`,
  };
}

/**
 * The report draft of a confirmed release (`pkghunt report-draft`): the email and the OSV record,
 * as text (every package-controlled string escaped, like everything else), with downloads.
 */
export function reportDraftSection(
  draft: ReportDraft,
  release: { project: string; version: string; onItsPage?: boolean },
): SafeHtml {
  const href = reportDraftHrefs(release.project, release.version);
  return html`<section id="report-draft"><h2>Report draft (confirmed malicious)</h2>
${draft.warnings.length ? html`<ul class="warnings">${draft.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
<p>${release.onItsPage ? '' : html`<a href="${href.page}">open the draft on its own page</a> · `}download <a href="${href.email}" download>the email (.txt)</a> ·
<a href="${href.osv}" download>the OSV record (.json)</a> · <a href="${href.json}">both as JSON</a></p>
<h3>Email</h3><pre class="draft-email">${draft.email}</pre>
<h3>OSV record <code>${draft.osv.id}</code></h3><pre class="draft-osv">${JSON.stringify(draft.osv, null, 2)}</pre></section>`;
}

export function renderReportDraftPage(data: {
  draft: ReportDraft;
  project: string;
  version: string;
  triageEnabled: boolean;
}): string {
  const body = html`<p><a href="${packageHref(data.project, data.version)}">back to ${data.project} ${data.version}</a> ·
the same draft as <code>pkghunt report-draft ${data.project}==${data.version}</code>; review it before sending.</p>
${reportDraftSection(data.draft, { project: data.project, version: data.version, onItsPage: true })}`;
  return layout({
    title: `Report draft: ${data.project} ${data.version}`,
    section: 'package',
    triageEnabled: data.triageEnabled,
    body,
  });
}
