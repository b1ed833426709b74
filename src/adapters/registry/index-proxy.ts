import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { isValidProjectName, normalizeName } from '../../core/pypi/normalize-name.ts';
import type { ProjectFile, ProjectPage } from '../../core/pypi/project-page.ts';
import { renderSimpleHtml } from '../../core/pypi/render-simple-html.ts';
import type { IndexRequest, PhaseName } from '../../core/record/schema.ts';
import { type FetchRetryOptions, fetchWithRetry } from './fetch-with-retry.ts';
import { fetchIntoCache } from './file-cache.ts';
import { createLimiter } from './limiter.ts';
import { isInside, localIndexRoot } from './local-index.ts';
import { getProjectPage } from './simple-index.ts';

export interface ServedFile {
  filename: string;
  sha256: string;
  size: number;
  project: string;
}

export interface IndexProxy {
  socketPath: string;
  /** Tags the requests that follow with a phase (null: none). */
  setPhase(phase: PhaseName | null): void;
  /**
   * Every request seen, in arrival order; `time` is seconds since the proxy started. A request
   * still being answered shows status 0.
   */
  requests(): IndexRequest[];
  /** Distribution files handed to a client (first time each). */
  servedFiles(): ServedFile[];
  close(): Promise<void>;
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

function statusOf(error: PkghuntError): number {
  if (error.code === 'PACKAGE_NOT_FOUND') return 404;
  if (error.code === 'INDEX_UNREACHABLE' || error.code === 'INDEX_BAD_RESPONSE') return 502;
  return 500;
}

function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): number {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
  return res.req.method === 'HEAD' ? 0 : bytes.length;
}

/** Answers a refused request, logging it first (the client may read the log once answered). */
function refuse(res: ServerResponse, entry: IndexRequest, status: number, text: string): Outcome {
  Object.assign(entry, {
    status,
    upstream: null,
    cached: false,
    bytes: res.req.method === 'HEAD' ? 0 : Buffer.byteLength(text),
  });
  return { status, upstream: null, cached: false, bytes: sendText(res, status, text) };
}

async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (info === null) return;
  if (!info.isSocket()) {
    throw new PkghuntError(
      'SANDBOX_SETUP_FAILED',
      `Cannot listen on ${path}: a non-socket file is in the way`,
    );
  }
  await unlink(path);
}

/**
 * Serves the one index pip inside the sandbox may use. Pages come from upstream with every file
 * link rewritten to /files/<id>/<filename>; only files listed on a page this proxy served can be
 * fetched, so the package under analysis cannot use the proxy as a relay to anywhere else.
 */
export async function startIndexProxy(options: IndexProxyOptions): Promise<IndexProxy> {
  const started = performance.now();
  const limit = createLimiter(options.fetchConcurrency ?? 4);
  const retry = options.retry ?? {};
  const local = options.indexUrl.startsWith('file:') ? localIndexRoot(options.indexUrl) : null;
  const links = new Map<string, Link>();
  const pages = new Map<string, string>();
  const log: IndexRequest[] = [];
  const served = new Map<string, ServedFile>();
  let phase: PhaseName | null = null;

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

  async function openUpstream(url: string): Promise<Readable> {
    const parsed = new URL(url);
    if (parsed.protocol === 'file:') {
      const path = fileURLToPath(parsed);
      if (local === null || !isInside(path, local.allowedRoot)) {
        throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot serve ${url}: outside the local index`);
      }
      return createReadStream(path);
    }
    const response = await fetchWithRetry(url, retry);
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw new PkghuntError(
        response.status === 404 ? 'PACKAGE_NOT_FOUND' : 'INDEX_UNREACHABLE',
        `Cannot fetch ${url}: the index answered ${response.status}`,
      );
    }
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
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
        openSource: () => openUpstream(link.url),
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
    // Logged before the body goes out: the client may read the log as soon as it has the bytes.
    Object.assign(entry, {
      status: 200,
      upstream: link.url,
      bytes: res.req.method === 'HEAD' ? 0 : file.size,
      cached,
    });
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': file.size,
      'Cache-Control': 'no-store',
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return { status: 200, upstream: link.url, bytes: 0, cached };
    }
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file.path);
      stream.on('error', reject);
      res.on('close', resolve);
      stream.pipe(res);
    });
    return { status: 200, upstream: link.url, bytes: file.size, cached };
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
      return { ...entry, bytes: sendText(res, 200, body, 'text/html; charset=utf-8') };
    }
    if (top === 'simple' && first !== undefined && second === undefined && isValidProjectName(first)) {
      const project = normalizeName(first);
      const { html, ...outcome } = await projectPage(project, entry);
      Object.assign(entry, outcome, { bytes: req.method === 'HEAD' ? 0 : Buffer.byteLength(html) });
      const bytes = sendText(res, 200, html, 'text/html; charset=utf-8');
      return { ...outcome, bytes };
    }
    if (top === 'files' && first !== undefined && second !== undefined && extra === undefined) {
      return serveFile(res, entry, first, second);
    }
    return refuse(res, entry, 404, 'Not found.\n');
  }

  const server = createServer((req, res) => {
    const time = (performance.now() - started) / 1000;
    const entry: IndexRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '',
      upstream: null,
      status: 0,
      bytes: 0,
      cached: false,
      time,
      phase,
    };
    log.push(entry);
    route(req, res, entry)
      .then((outcome) => Object.assign(entry, outcome))
      .catch((error: unknown) => {
        const failure = toPkghuntError(error);
        const message = `${failure.message}\n`;
        entry.status = statusOf(failure);
        if (res.headersSent) res.destroy();
        else {
          entry.bytes = req.method === 'HEAD' ? 0 : Buffer.byteLength(message);
          sendText(res, entry.status, message);
        }
      });
  });

  await removeStaleSocket(options.socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    socketPath: options.socketPath,
    setPhase(next) {
      phase = next;
    },
    requests: () => log.map((entry) => ({ ...entry })),
    servedFiles: () => [...served.values()],
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await unlink(options.socketPath).catch(() => undefined);
    },
  };
}

function renderSimpleIndexList(projects: readonly string[]): string {
  const rows = projects.map((p) => `<a href="/simple/${encodeURIComponent(p)}/">${p}</a><br/>`);
  return `<!DOCTYPE html>\n<html><body>\n${rows.join('\n')}\n</body></html>\n`;
}
