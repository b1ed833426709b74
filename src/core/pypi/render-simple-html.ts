/** A link on a page the index proxy serves to pip. */
export interface SimpleLink {
  filename: string;
  href: string;
  sha256: string | null;
  requiresPython: string | null;
  yanked: false | string;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Renders a PEP 503 project page (the form every pip understands). */
export function renderSimpleHtml(project: string, links: readonly SimpleLink[]): string {
  const rows = links.map((link) => {
    const href = link.sha256 ? `${link.href}#sha256=${link.sha256}` : link.href;
    let attrs = `href="${escapeHtml(href)}"`;
    if (link.requiresPython) attrs += ` data-requires-python="${escapeHtml(link.requiresPython)}"`;
    if (link.yanked !== false) attrs += ` data-yanked="${escapeHtml(link.yanked)}"`;
    return `<a ${attrs}>${escapeHtml(link.filename)}</a><br/>`;
  });
  return `<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.0"><title>Links for ${escapeHtml(project)}</title></head><body>\n<h1>Links for ${escapeHtml(project)}</h1>\n${rows.join('\n')}\n</body></html>\n`;
}
