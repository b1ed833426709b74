import { PkghuntError } from '../errors.ts';

export interface FeedUrls {
  /** RSS of new releases. */
  releases: string;
  /** RSS of new projects. */
  projects: string;
  /** XML-RPC endpoint with changelog_since_serial, or null (--no-changelog). */
  changelog: string | null;
}

export interface FeedUrlOverrides {
  feedUrl?: string;
  packagesFeedUrl?: string;
  changelogUrl?: string;
  noChangelog?: boolean;
}

function checkUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PkghuntError('USAGE', `Cannot use ${flag} ${JSON.stringify(value)}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PkghuntError('USAGE', `Cannot use ${flag} ${JSON.stringify(value)}: not an http(s):// URL`);
  }
  return url.href;
}

/**
 * The feed URLs of the index: each explicit option wins; otherwise they derive from the index
 * URL (its origin is the simple index URL without `/simple/`): `<origin>/rss/updates.xml`,
 * `<origin>/rss/packages.xml`, XML-RPC at `<origin>/pypi`. A file:// index has no feed unless
 * both feed URLs are given.
 */
export function deriveFeedUrls(indexUrl: string, overrides: FeedUrlOverrides = {}): FeedUrls {
  const explicit = {
    releases: overrides.feedUrl === undefined ? null : checkUrl(overrides.feedUrl, '--feed-url'),
    projects:
      overrides.packagesFeedUrl === undefined
        ? null
        : checkUrl(overrides.packagesFeedUrl, '--packages-feed-url'),
    changelog:
      overrides.changelogUrl === undefined ? null : checkUrl(overrides.changelogUrl, '--changelog-url'),
  };
  const index = new URL(indexUrl);
  const needsOrigin =
    explicit.releases === null ||
    explicit.projects === null ||
    (explicit.changelog === null && overrides.noChangelog !== true);
  if (needsOrigin && index.protocol !== 'http:' && index.protocol !== 'https:') {
    throw new PkghuntError(
      'FEED_UNSUPPORTED',
      `Cannot watch the index ${indexUrl}: a ${index.protocol}// index has no feed of new releases`,
      {
        hint: 'Give --feed-url and --packages-feed-url (and --changelog-url or --no-changelog) to watch feeds served elsewhere.',
      },
    );
  }
  const base = new URL(index.href);
  base.pathname = base.pathname.replace(/\/simple\/?$/, '/').replace(/\/?$/, '/');
  base.search = '';
  return {
    releases: explicit.releases ?? new URL('rss/updates.xml', base).href,
    projects: explicit.projects ?? new URL('rss/packages.xml', base).href,
    changelog: overrides.noChangelog === true ? null : (explicit.changelog ?? new URL('pypi', base).href),
  };
}
