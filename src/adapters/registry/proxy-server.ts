import { createReadStream } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PkghuntError, toPkghuntError } from '../../core/errors.ts';
import type { IndexRequest, PhaseName } from '../../core/record/schema.ts';
import { type FetchRetryOptions, fetchWithRetry } from './fetch-with-retry.ts';
import { isInside } from './local-index.ts';

/**
 * What the index proxy (pip) and the npm proxy share: an HTTP server on a Unix socket that logs
 * every request as the record's `index_requests`, small answers, and files streamed from the cache.
 */
export interface ProxyServer {
  /** Tags the requests that follow with a phase (null: none). */
  setPhase(phase: PhaseName | null): void;
  /**
   * Every request seen, in arrival order; `time` is seconds since the proxy started. A request
   * still being answered shows status 0.
   */
  requests(): IndexRequest[];
  close(): Promise<void>;
}

/** Answers one request; `entry` is its log line, to fill in before the answer goes out. */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, entry: IndexRequest) => Promise<void>;

/** Sends a small answer; returns the body bytes sent (0 for HEAD). */
export function sendText(
  res: ServerResponse,
  answer: { status: number; body: string; type?: string },
): number {
  const bytes = Buffer.from(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': answer.type ?? 'text/plain; charset=utf-8',
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
  return res.req.method === 'HEAD' ? 0 : bytes.length;
}

/** The HTTP status a failed request gets: not found, the upstream failed, or our own failure. */
export function proxyStatusOf(error: PkghuntError): number {
  if (error.code === 'PACKAGE_NOT_FOUND' || error.code === 'INVALID_PACKAGE_SPEC') return 404;
  if (error.code === 'INDEX_UNREACHABLE' || error.code === 'INDEX_BAD_RESPONSE') return 502;
  return 500;
}

/**
 * The bytes of an upstream file: a `file:` URL only inside `localRoot` (the local index or
 * registry directory), anything else fetched with retries.
 */
export async function openUpstream(
  url: string,
  options: {
    localRoot: string | null;
    retry: Pick<FetchRetryOptions, 'retries' | 'baseDelayMs' | 'maxDelayMs' | 'timeoutMs'>;
    /** How the upstream is named in errors: `index` or `registry`. */
    upstream: string;
  },
): Promise<Readable> {
  const parsed = new URL(url);
  if (parsed.protocol === 'file:') {
    const path = fileURLToPath(parsed);
    if (options.localRoot === null || !isInside(path, options.localRoot)) {
      throw new PkghuntError(
        'INDEX_BAD_RESPONSE',
        `Cannot serve ${url}: outside the local ${options.upstream}`,
      );
    }
    return createReadStream(path);
  }
  const response = await fetchWithRetry(url, options.retry);
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      response.status === 404 ? 'PACKAGE_NOT_FOUND' : 'INDEX_UNREACHABLE',
      `Cannot fetch ${url}: the ${options.upstream} answered ${response.status}`,
    );
  }
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
}

/** Streams a cached file (200); HEAD gets the headers only. Resolves once the answer is done. */
export async function sendFile(res: ServerResponse, file: { path: string; size: number }): Promise<void> {
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': file.size,
    'Cache-Control': 'no-store',
  });
  if (res.req.method === 'HEAD') {
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

async function _removeStaleSocket(path: string): Promise<void> {
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
 * Listens on `socketPath` (a socket left by an earlier run is replaced) and logs every request
 * before `handle` answers it; a failure becomes a short text answer with its status, or a cut
 * connection once the headers are out.
 */
export async function listenProxy(socketPath: string, handle: ProxyHandler): Promise<ProxyServer> {
  const started = performance.now();
  const log: IndexRequest[] = [];
  let phase: PhaseName | null = null;
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
    handle(req, res, entry).catch((error: unknown) => {
      const failure = toPkghuntError(error);
      entry.status = proxyStatusOf(failure);
      if (res.headersSent) res.destroy();
      else entry.bytes = sendText(res, { status: entry.status, body: `${failure.message}\n` });
    });
  });

  await _removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    setPhase(next) {
      phase = next;
    },
    requests: () => log.map((entry) => ({ ...entry })),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await unlink(socketPath).catch(() => undefined);
    },
  };
}
