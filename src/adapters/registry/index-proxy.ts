import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidProjectName, normalizeName } from '../../core/pypi/normalize-name.ts';
import type { ProjectFile, ProjectPage } from '../../core/pypi/project-page.ts';
import { renderSimpleHtml } from '../../core/pypi/render-simple-html.ts';
import type { IndexRequest } from '../../core/record/schema.ts';
import type { FetchRetryOptions } from './fetch-with-retry.ts';
import { fetchIntoCache } from './file-cache.ts';
import { createLimiter } from './limiter.ts';
import { localIndexRoot } from './local-index.ts';
import { listenProxy, openUpstream, type ProxyServer, sendFile, sendText } from './proxy-server.ts';
import { getProjectPage } from './simple-index.ts';

export interface ServedFile {
  filename: string;
  sha256: string;
  size: number;
  project: string;
}

export interface IndexProxy extends ProxyServer {
  socketPath: string;
  /** Distribution files handed to a client (first time each). */
  servedFiles(): ServedFile[];
}

export interface IndexProxyOptions {
  indexUrl: string;
  socketPath: string;
  cacheDir: string;
  fetchConcurrency?: number;
  /** Retry tuning for upstream requests (tests shorten it). */
  retry?: Pick<FetchRetryOptions, 'retries' | 'baseDelayMs' | 'maxDelayMs' | 'timeoutMs'>;
}

interface Link {
  url: string;
  filename: string;
  project: string;
  sha256: string | null;
}

interface Outcome {
  status: number;
  upstream: string | null;
  bytes: number;
  cached: boolean;
}

function linkId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 32);
}

/** Answers a refused request, logging it first (the client may read the log once answered). */
function refuse(res: ServerResponse, entry: IndexRequest, status: number, text: string): Outcome {
  Object.assign(entry, {
    status,
    upstream: null,
    cached: false,
    bytes: res.req.method === 'HEAD' ? 0 : Buffer.byteLength(text),
  });
  return { status, upstream: null, cached: false, bytes: sendText(res, { status, body: text }) };
}

/**
 * Serves the one index pip inside the sandbox may use. Pages come from upstream with every file
 * link rewritten to /files/<id>/<filename>; only files listed on a page this proxy served can be
 * fetched, so the package under analysis cannot use the proxy as a relay to anywhere else.
 */
export async function startIndexProxy(options: IndexProxyOptions): Promise<IndexProxy> {
  const limit = createLimiter(options.fetchConcurrency ?? 4);
  const retry = options.retry ?? {};
  const local = options.indexUrl.startsWith('file:') ? localIndexRoot(options.indexUrl) : null;
  const links = new Map<string, Link>();
  const pages = new Map<string, string>();
  const served = new Map<string, ServedFile>();

  function linkFor(file: ProjectFile, project: string): Link & { id: string } {
    const id = linkId(file.url);
    const link: Link = {
      url: file.url,
      filename: file.filename,
      project,
      sha256: file.hashes.sha256 ?? null,
    };
    links.set(id, link);
    return { id, ...link };
  }

  async function projectPage(project: string, entry: IndexRequest): Promise<Outcome & { html: string }> {
    const upstream = new URL(`${project}/`, options.indexUrl).href;
    entry.upstream = upstream;
    const known = pages.get(project);
    if (known !== undefined) return { status: 200, upstream, bytes: 0, cached: true, html: known };
    const page: ProjectPage = await limit(() => getProjectPage(options.indexUrl, project, retry));
    const html = renderSimpleHtml(
      project,
      page.files
        .filter((file) => /^[^/\\]+$/.test(file.filename))
        .map((file) => {
          const link = linkFor(file, project);
          return {
            filename: file.filename,
            href: `/files/${link.id}/${encodeURIComponent(file.filename)}`,
            sha256: link.sha256,
            requiresPython: file.requiresPython,
            yanked: file.yanked,
          };
        }),
    );
    pages.set(project, html);
    return { status: 200, upstream, bytes: 0, cached: false, html };
  }

  async function serveFile(
    res: ServerResponse,
    entry: IndexRequest,
    id: string,
    filename: string,
  ): Promise<Outcome> {
    const link = links.get(id);
    if (link === undefined || link.filename !== filename) {
      return refuse(res, entry, 404, 'Not listed on any page served.\n');
    }
    entry.upstream = link.url;
    const { file, cached } = await limit(() =>
      fetchIntoCache(options.cacheDir, {
        url: link.url,
        expectedSha256: link.sha256,
        openSource: () =>
          openUpstream(link.url, { localRoot: local?.allowedRoot ?? null, retry, upstream: 'index' }),
      }),
    );
    if (!served.has(file.sha256)) {
      served.set(file.sha256, {
        filename: link.filename,
        sha256: file.sha256,
        size: file.size,
        project: link.project,
      });
    }
    const outcome = {
      status: 200,
      upstream: link.url,
      bytes: res.req.method === 'HEAD' ? 0 : file.size,
      cached,
    };
    // Logged before the body goes out: the client may read the log as soon as it has the bytes.
    Object.assign(entry, outcome);
    await sendFile(res, file);
    return outcome;
  }

  async function route(req: IncomingMessage, res: ServerResponse, entry: IndexRequest): Promise<Outcome> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return refuse(res, entry, 405, 'Method not allowed.\n');
    }
    const segments = new URL(req.url ?? '/', 'http://proxy').pathname.split('/').filter(Boolean);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      decoded = [];
    }
    const [top, first, second, extra] = decoded;
    if (top === 'simple' && first === undefined) {
      const body = renderSimpleIndexList([...pages.keys()]);
      Object.assign(entry, { status: 200, upstream: null, bytes: Buffer.byteLength(body), cached: true });
      return { ...entry, bytes: sendText(res, { status: 200, body, type: 'text/html; charset=utf-8' }) };
    }
    if (top === 'simple' && first !== undefined && second === undefined && isValidProjectName(first)) {
      const project = normalizeName(first);
      const { html, ...outcome } = await projectPage(project, entry);
      Object.assign(entry, outcome, { bytes: req.method === 'HEAD' ? 0 : Buffer.byteLength(html) });
      const bytes = sendText(res, { status: 200, body: html, type: 'text/html; charset=utf-8' });
      return { ...outcome, bytes };
    }
    if (top === 'files' && first !== undefined && second !== undefined && extra === undefined) {
      return serveFile(res, entry, first, second);
    }
    return refuse(res, entry, 404, 'Not found.\n');
  }

  const server = await listenProxy(options.socketPath, async (req, res, entry) => {
    Object.assign(entry, await route(req, res, entry));
  });
  return { ...server, socketPath: options.socketPath, servedFiles: () => [...served.values()] };
}

function renderSimpleIndexList(projects: readonly string[]): string {
  const rows = projects.map((p) => `<a href="/simple/${encodeURIComponent(p)}/">${p}</a><br/>`);
  return `<!DOCTYPE html>\n<html><body>\n${rows.join('\n')}\n</body></html>\n`;
}
