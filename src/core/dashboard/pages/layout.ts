import { html, type SafeHtml } from '../html.ts';

/** One stored result as the overview's feed and the triage queue list it. */
export interface ResultRow {
  id: number;
  project: string;
  version: string | null;
  storedAt: string;
  verdictLevel: string | null;
  verdictScore: number | null;
}

export type Section = 'overview' | 'triage' | 'search' | 'package';

export interface LayoutOptions {
  title: string;
  section: Section;
  /** Whether POST /api/triage accepts decisions (a token is configured). */
  triageEnabled: boolean;
  body: SafeHtml;
  /** The live feed's starting cursor (the latest result id when the page was rendered). */
  liveAfter?: number;
}

const NAV: readonly [Section, string, string][] = [
  ['overview', '/', 'Overview'],
  ['triage', '/triage', 'Triage queue'],
  ['search', '/search', 'Search'],
];

/**
 * The page frame. Scripts and styles come only from /assets (CSP `script-src 'self'`, no inline
 * script or style); data for the script travels in data-* attributes, escaped like everything else.
 */
export function layout(options: LayoutOptions): string {
  const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} - pkghunt</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body data-section="${options.section}" data-triage="${options.triageEnabled ? 'enabled' : 'disabled'}"${
    options.liveAfter === undefined ? '' : html` data-live-after="${options.liveAfter}"`
  }>
<header><span class="brand">pkghunt</span><nav>${NAV.map(
    ([section, href, label]) =>
      html`<a href="${href}"${section === options.section ? html` class="active"` : ''}>${label}</a>`,
  )}</nav>
<form class="quick-search" method="get" action="/search"><input type="search" name="q" placeholder="package, host, DNS name, command, path" aria-label="search"><button>Search</button></form>
<span id="live-status" class="live-status"></span>
</header>
<main>
<h1>${options.title}</h1>
${options.body}
</main>
</body></html>
`;
  return page.toString();
}

export function levelBadge(level: string | null): SafeHtml {
  const value = level ?? 'none';
  return html`<span class="level level-${/^[a-z]+$/.test(value) ? value : 'other'}">${value}</span>`;
}

export function packageHref(project: string, version: string | null): string {
  const base = `/package/${encodeURIComponent(project)}`;
  return version === null ? base : `${base}/${encodeURIComponent(version)}`;
}

export function packageLink(project: string, version: string | null): SafeHtml {
  return html`<a href="${packageHref(project, version)}">${project} ${version ?? ''}</a>`;
}
