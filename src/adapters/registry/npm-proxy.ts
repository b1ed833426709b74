import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import { isValidNpmName } from '../../core/npm/npm-package-spec.ts';
import { rewriteTarballs, tarballFilename } from '../../core/npm/packument.ts';
import type { IndexRequest, PhaseName } from '../../core/record/schema.ts';
import { type FetchRetryOptions, fetchWithRetry } from './fetch-with-retry.ts';
import { fetchIntoCache } from './file-cache.ts';
import type { IndexProxy, ServedFile } from './index-proxy.ts';
import { createLimiter } from './limiter.ts';
import { isInside } from './local-index.ts';
import { fetchPackument } from './npm-registry.ts';

export interface NpmProxyOptions {
  /** Registry URL ending in '/', http(s) or file:// (a local directory registry). */
  registry: string;
  socketPath: string;
  cacheDir: string;
  retry?: Pick<FetchRetryOptions, 'retries' | 'baseDelayMs' | 'maxDelayMs' | 'timeoutMs'>;
}

interface Tarball {
  url: string;
  filename: string;
  project: string;
}

/** The forwarder in the netns listens on loopback: npm's Host header is 127.0.0.1:PORT. */
const LOOPBACK_HOST = /^127\.0\.0\.1:\d{1,5}$/;

function send(res: ServerResponse, status: number, body: string, type: string): number {
  const bytes = Buffer.from(body);
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
  return res.req.method === 'HEAD' ? 0 : bytes.length;
}

function statusOf(error: PkghuntError): number {
  if (error.code === 'PACKAGE_NOT_FOUND' || error.code === 'INVALID_PACKAGE_SPEC') return 404;
  if (error.code === 'INDEX_UNREACHABLE' || error.code === 'INDEX_BAD_RESPONSE') return 502;
  return 500;
}

/**
 * The one registry npm inside the sandbox may use, on a Unix socket (the netns forwarder connects
 * to it). Package documents come from upstream with every `dist.tarball` rewritten to
 * /-/files/<id>/<filename> on this proxy; only tarballs listed in a document it served can be
 * fetched, so the package cannot use it as a relay. Everything else (audit, search, login) is 404.
 * Every request is logged as the record's `index_requests`.
 */
export async function startNpmProxy(options: NpmProxyOptions): Promise<IndexProxy> {
  const started = performance.now();
  const limit = createLimiter(4);
  const retry = options.retry ?? {};
  const localRoot = options.registry.startsWith('file:') ? fileURLToPath(options.registry) : null;
  const tarballs = new Map<string, Tarball>();
  const documents = new Map<string, string>();
  const log: IndexRequest[] = [];
  const served = new Map<string, ServedFile>();
  let phase: PhaseName | null = null;

  async function document(name: string, host: string, entry: IndexRequest): Promise<string> {
    const key = `${host}\0${name}`;
    const known = documents.get(key);
    if (known !== undefined) {
      entry.cached = true;
      return known;
    }
    const fetched = await limit(() => fetchPackument(options.registry, name, retry));
    entry.upstream = fetched.url;
    const rewritten = rewriteTarballs(fetched.packument, (tarball) => {
      const url = new URL(tarball, fetched.url).href;
      const id = createHash('sha256').update(url).digest('hex').slice(0, 32);
      const filename = tarballFilename(url);
      tarballs.set(id, { url, filename, project: fetched.packument.name });
      return `http://${host}/-/files/${id}/${encodeURIComponent(filename)}`;
    });
    const body = JSON.stringify(rewritten);
    documents.set(key, body);
    return body;
  }

  async function openUpstream(url: string): Promise<Readable> {
    if (url.startsWith('file:')) {
      const path = fileURLToPath(url);
      if (localRoot === null || !isInside(path, localRoot.replace(/\/$/, ''))) {
        throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot serve ${url}: outside the local registry`);
      }
      return createReadStream(path);
    }
    const response = await fetchWithRetry(url, retry);
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw new PkghuntError(
        response.status === 404 ? 'PACKAGE_NOT_FOUND' : 'INDEX_UNREACHABLE',
        `Cannot fetch ${url}: the registry answered ${response.status}`,
      );
    }
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  }

  async function serveTarball(res: ServerResponse, entry: IndexRequest, id: string, filename: string) {
    const tarball = tarballs.get(id);
    if (tarball === undefined || tarball.filename !== filename) {
      Object.assign(entry, {
        status: 404,
        bytes: send(res, 404, 'Not listed in any document served.\n', 'text/plain'),
      });
      return;
    }
    entry.upstream = tarball.url;
    const { file, cached } = await limit(() =>
      fetchIntoCache(options.cacheDir, {
        url: tarball.url,
        expectedSha256: null,
        openSource: () => openUpstream(tarball.url),
      }),
    );
    if (!served.has(file.sha256)) {
      served.set(file.sha256, { filename, sha256: file.sha256, size: file.size, project: tarball.project });
    }
    const head = res.req.method === 'HEAD';
    Object.assign(entry, { status: 200, bytes: head ? 0 : file.size, cached });
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.size });
    if (head) {
      res.end();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file.path);
      stream.on('error', reject);
      res.on('close', resolve);
      stream.pipe(res);
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, entry: IndexRequest): Promise<void> {
    const refuse = (status: number, text: string) => {
      Object.assign(entry, { status, bytes: send(res, status, text, 'text/plain; charset=utf-8') });
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, 'Method not allowed.\n');
    const host = req.headers.host ?? '';
    if (!LOOPBACK_HOST.test(host)) return refuse(400, 'Unexpected Host header.\n');
    const pathname = new URL(req.url ?? '/', 'http://proxy').pathname;
    const files = /^\/-\/files\/([0-9a-f]{32})\/([^/]+)$/.exec(pathname);
    if (files?.[1] !== undefined && files[2] !== undefined) {
      let filename: string;
      try {
        filename = decodeURIComponent(files[2]);
      } catch {
        return refuse(404, 'Not found.\n');
      }
      return serveTarball(res, entry, files[1], filename);
    }
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice(1));
    } catch {
      return refuse(404, 'Not found.\n');
    }
    if (!isValidNpmName(name)) return refuse(404, 'Not found.\n');
    const body = await document(name, host, entry);
    Object.assign(entry, { status: 200, bytes: send(res, 200, body, 'application/json') });
  }

  const server = createServer((req, res) => {
    const entry: IndexRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '',
      upstream: null,
      status: 0,
      bytes: 0,
      cached: false,
      time: (performance.now() - started) / 1000,
      phase,
    };
    log.push(entry);
    route(req, res, entry).catch((error: unknown) => {
      const failure = toPkghuntError(error);
      entry.status = statusOf(failure);
      if (res.headersSent) res.destroy();
      else entry.bytes = send(res, entry.status, `${failure.message}\n`, 'text/plain; charset=utf-8');
    });
  });

  const stale = await lstat(options.socketPath).catch(() => null);
  if (stale?.isSocket()) await unlink(options.socketPath);
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
