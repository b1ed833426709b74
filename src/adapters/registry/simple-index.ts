import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { latestRelease, type Release } from '../../core/pypi/latest-release.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import { parseSimpleHtml, parseSimpleJson } from '../../core/pypi/parse-simple-page.ts';
import type { ProjectPage } from '../../core/pypi/project-page.ts';
import { type FetchRetryOptions, fetchWithRetry } from './fetch-with-retry.ts';
import { readLocalProjectPage } from './local-index.ts';

export { latestRelease, type Release };

const ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

export type IndexClientOptions = Pick<
  FetchRetryOptions,
  'retries' | 'baseDelayMs' | 'maxDelayMs' | 'timeoutMs'
>;

function failedStatus(url: string, status: number): PkghuntError {
  if (status === 429 || status >= 500) {
    return new PkghuntError('INDEX_UNREACHABLE', `Cannot fetch ${url}: the index answered ${status}`, {
      hint: 'The index is overloaded or down; retry later.',
    });
  }
  return new PkghuntError('INDEX_BAD_RESPONSE', `Cannot fetch ${url}: the index answered ${status}`);
}

/**
 * A project's simple-API page, from a remote index (PEP 691 JSON when offered, PEP 503 HTML
 * otherwise) or a local directory index (file:// URL).
 */
export async function getProjectPage(
  indexUrl: string,
  name: string,
  options: IndexClientOptions = {},
): Promise<ProjectPage> {
  const normalized = normalizeName(name);
  if (indexUrl.startsWith('file:')) return readLocalProjectPage(indexUrl, normalized);
  const url = new URL(`${encodeURIComponent(normalized)}/`, indexUrl).href;
  const response = await fetchWithRetry(url, { ...options, headers: { Accept: ACCEPT } });
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      'PACKAGE_NOT_FOUND',
      `Cannot find project ${normalized} on the index ${indexUrl}`,
      {
        hint: 'Check the spelling of the name.',
      },
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw failedStatus(url, response.status);
  }
  const body = await response.text();
  const pageUrl = response.url || url;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('application/vnd.pypi.simple.v1+json')) return parseSimpleJson(body, { pageUrl });
  return parseSimpleHtml(body, { pageUrl, name: normalized });
}

const nullableString = z.string().nullable().optional();

/** The JSON API's answer, as far as pkghunt reads it. */
const JsonApiRelease = z.object({
  info: z
    .object({
      name: z.string(),
      version: z.string(),
      summary: nullableString,
      author: nullableString,
      author_email: nullableString,
      maintainer: nullableString,
      license: nullableString,
      home_page: nullableString,
      project_urls: z.record(z.string(), z.string()).nullable().optional(),
      requires_dist: z.array(z.string()).nullable().optional(),
      requires_python: nullableString,
    })
    .loose(),
  urls: z
    .array(
      z
        .object({
          filename: z.string(),
          upload_time_iso_8601: z.string().nullable().optional(),
          upload_time: z.string().nullable().optional(),
        })
        .loose(),
    )
    .optional(),
});

export const ProjectMetadata = z.object({
  name: z.string(),
  version: z.string(),
  summary: z.string().nullable(),
  author: z.string().nullable(),
  author_email: z.string().nullable(),
  maintainer: z.string().nullable(),
  license: z.string().nullable(),
  home_page: z.string().nullable(),
  project_urls: z.record(z.string(), z.string()).nullable(),
  requires_dist: z.array(z.string()).nullable(),
  requires_python: z.string().nullable(),
  files: z.array(z.object({ filename: z.string(), upload_time: z.string().nullable() })),
});
export type ProjectMetadata = z.infer<typeof ProjectMetadata>;

/** Where a PyPI-style index keeps its JSON API: the index URL without its trailing simple/. */
export function jsonApiUrl(indexUrl: string, name: string, version: string): string | null {
  const url = new URL(indexUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.pathname = url.pathname.replace(/simple\/?$/, '').replace(/\/?$/, '/');
  url.search = '';
  return new URL(`pypi/${encodeURIComponent(name)}/${encodeURIComponent(version)}/json`, url).href;
}

/**
 * Project metadata from the index's JSON API, or null when the index has none (404, not JSON,
 * a local directory index).
 */
export async function fetchProjectMetadata(
  indexUrl: string,
  name: string,
  version: string,
  options: IndexClientOptions = {},
): Promise<ProjectMetadata | null> {
  const url = jsonApiUrl(indexUrl, normalizeName(name), version);
  if (url === null) return null;
  const response = await fetchWithRetry(url, { ...options, headers: { Accept: 'application/json' } });
  if (response.status === 429 || response.status >= 500) {
    await response.body?.cancel().catch(() => undefined);
    throw failedStatus(url, response.status);
  }
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok || !type.includes('json')) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  let raw: unknown;
  try {
    raw = await response.json();
  } catch (cause) {
    throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot parse the JSON metadata at ${url}`, { cause });
  }
  const parsed = JsonApiRelease.safeParse(raw);
  if (!parsed.success) {
    throw new PkghuntError(
      'INDEX_BAD_RESPONSE',
      `Cannot read the JSON metadata at ${url}: ${parsed.error.issues[0]?.message ?? 'bad shape'}`,
      { cause: parsed.error },
    );
  }
  const { info, urls } = parsed.data;
  return {
    name: info.name,
    version: info.version,
    summary: info.summary ?? null,
    author: info.author ?? null,
    author_email: info.author_email ?? null,
    maintainer: info.maintainer ?? null,
    license: info.license ?? null,
    home_page: info.home_page ?? null,
    project_urls: info.project_urls ?? null,
    requires_dist: info.requires_dist ?? null,
    requires_python: info.requires_python ?? null,
    files: (urls ?? []).map((file) => ({
      filename: file.filename,
      upload_time: file.upload_time_iso_8601 ?? file.upload_time ?? null,
    })),
  };
}
