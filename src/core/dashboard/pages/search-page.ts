import { html } from '../html.ts';
import type { ResultRow } from './layout.ts';
import { layout, levelBadge, packageLink } from './layout.ts';

export interface SearchPageData {
  query: string;
  kind: string;
  kinds: readonly string[];
  results: ResultRow[] | null;
  triageEnabled: boolean;
}

export function renderSearchPage(data: SearchPageData): string {
  const body = html`<form class="filters" method="get" action="/search">
<label>find <input name="q" value="${data.query}" placeholder="text"></label>
<label>in <select name="kind">${data.kinds.map(
    (k) => html`<option value="${k}"${k === data.kind ? html` selected` : ''}>${k}</option>`,
  )}</select></label><button>Search</button></form>
${
  data.results === null
    ? html`<p>Search package names, contacted hosts (name or IP), DNS names, commands (beyond the build's own) or file paths.</p>`
    : html`<p>${data.results.length} releases whose ${data.kind} contains <q>${data.query}</q>.</p>
<table><thead><tr><th>package</th><th>verdict</th><th>score</th><th>stored</th></tr></thead><tbody id="search-results">${data.results.map(
        (r) =>
          html`<tr><td>${packageLink(r.project, r.version)}</td><td>${levelBadge(r.verdictLevel)}</td><td class="n">${r.verdictScore ?? ''}</td><td>${r.storedAt.slice(0, 10)}</td></tr>`,
      )}</tbody></table>`
}`;
  return layout({ title: 'Search', section: 'search', triageEnabled: data.triageEnabled, body });
}
