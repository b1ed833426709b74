import { normalizeName } from '../pypi/normalize-name.ts';

/**
 * The project page of a release, derived from the configured index URL: an index whose simple
 * API ends in `/simple/` serves `/project/NAME/VERSION/` beside it (the warehouse layout); other
 * http(s) indexes get their simple page of the project; a local (file://) index has no public page.
 */
export function projectPageUrl(indexUrl: string, name: string, version: string | null): string | null {
  let url: URL;
  try {
    url = new URL(indexUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.search = '';
  url.hash = '';
  url.username = '';
  url.password = '';
  const project = encodeURIComponent(normalizeName(name));
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  if (path.endsWith('/simple/')) {
    const release = version === null ? '' : `${encodeURIComponent(version)}/`;
    url.pathname = `${path.slice(0, -'simple/'.length)}project/${project}/${release}`;
    return url.href;
  }
  url.pathname = `${path}${project}/`;
  return url.href;
}
