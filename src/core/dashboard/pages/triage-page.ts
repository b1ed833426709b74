import { LABEL_TEXT, TRIAGE_LABELS } from '../../triage/decision.ts';
import { html, type SafeHtml } from '../html.ts';
import { layout, levelBadge, packageLink, type ResultRow } from './layout.ts';
import { reportDraftHrefs } from './report-draft-page.ts';

export interface QueueRow extends ResultRow {
  rules: string[];
  decision: {
    label: keyof typeof LABEL_TEXT;
    comment: string;
    analyst: string | null;
    decidedAt: string;
  } | null;
}

export interface TriageFilterValues {
  rule?: string | undefined;
  level?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  host?: string | undefined;
  decision?: string | undefined;
}

export interface TriagePageData {
  entries: QueueRow[];
  filter: TriageFilterValues;
  triageEnabled: boolean;
  latestId: number;
}

function _option(value: string, label: string, selected: string | undefined): SafeHtml {
  return html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`;
}

/** The form an analyst decides with; dashboard.js posts it with the token (no token: not shown). */
export function decisionForm(
  target: { project: string; version: string; rule?: string },
  enabled: boolean,
): SafeHtml {
  if (!enabled) return html``;
  return html`<form class="decide" data-project="${target.project}" data-version="${target.version}" data-rule="${target.rule ?? ''}">
<select name="label" aria-label="decision">${TRIAGE_LABELS.map((l) => _option(l, LABEL_TEXT[l], undefined))}</select>
<input name="comment" placeholder="comment" aria-label="comment"><button type="submit">Save</button><span class="saved"></span></form>`;
}

export function decisionText(decision: QueueRow['decision']): SafeHtml {
  if (decision === null) return html`<span class="undecided">undecided</span>`;
  return html`<span class="decision decision-${decision.label}">${LABEL_TEXT[decision.label]}</span>${
    decision.comment ? html` <q>${decision.comment}</q>` : ''
  } <small>${decision.analyst ?? ''} ${decision.decidedAt.slice(0, 10)}</small>`;
}

/** The token box: triage actions need the token configured on the server (PKGHUNT_SERVE_TOKEN). */
export function tokenBox(enabled: boolean): SafeHtml {
  if (!enabled) {
    return html`<p class="notice" id="triage-disabled">Triage is disabled: this server has no token configured (set PKGHUNT_SERVE_TOKEN or --token-file). Reading works.</p>`;
  }
  return html`<p class="notice">Decisions need the server's token: <input type="password" id="triage-token" autocomplete="off" aria-label="token" placeholder="token">
<input id="triage-analyst" placeholder="your name" aria-label="analyst"> (kept in this tab only)</p>`;
}

export function renderTriagePage(data: TriagePageData): string {
  const f = data.filter;
  const rows = data.entries.map(
    (
      e,
    ) => html`<tr data-id="${e.id}"><td>${packageLink(e.project, e.version)}</td><td>${levelBadge(e.verdictLevel)}</td>
<td class="n">${e.verdictScore ?? ''}</td><td>${e.rules.map((r) => html`<code class="rule">${r}</code> `)}</td>
<td>${e.storedAt.slice(0, 10)}</td><td><span class="current-decision">${decisionText(e.decision)}</span>${
      e.decision?.label === 'confirmed_malicious' && e.version !== null
        ? html` <a class="draft-link" href="${reportDraftHrefs(e.project, e.version).page}">report draft</a>`
        : ''
    }</td>
<td>${e.version === null ? '' : decisionForm({ project: e.project, version: e.version }, data.triageEnabled)}</td></tr>`,
  );
  const body = html`${tokenBox(data.triageEnabled)}
<form class="filters" method="get" action="/triage">
<label>rule <input name="rule" value="${f.rule ?? ''}" placeholder="e.g. net.outbound"></label>
<label>verdict <select name="level">${_option('', 'any', f.level)}${_option('suspicious', 'suspicious', f.level)}${_option('malicious', 'malicious', f.level)}</select></label>
<label>since <input type="date" name="since" value="${f.since ?? ''}"></label>
<label>until <input type="date" name="until" value="${f.until ?? ''}"></label>
<label>host <input name="host" value="${f.host ?? ''}" placeholder="host, IP or DNS name"></label>
<label>decision <select name="decision">${_option('', 'any', f.decision)}${_option('undecided', 'undecided', f.decision)}${TRIAGE_LABELS.map((l) => _option(l, LABEL_TEXT[l], f.decision))}</select></label>
<button>Filter</button></form>
<p>${data.entries.length} releases, highest score first.</p>
<table class="queue"><thead><tr><th>package</th><th>verdict</th><th>score</th><th>rules</th><th>stored</th><th>decision</th><th>decide</th></tr></thead>
<tbody id="triage-queue">${rows}</tbody></table>`;
  return layout({
    title: 'Triage queue',
    section: 'triage',
    triageEnabled: data.triageEnabled,
    body,
    liveAfter: data.latestId,
  });
}
