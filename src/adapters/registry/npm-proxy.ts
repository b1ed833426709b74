import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { isValidNpmName } from '../../core/npm/npm-package-spec.ts';
import { rewriteTarballs, tarballFilename } from '../../core/npm/packument.ts';
import type { IndexRequest } from '../../core/record/schema.ts';
import type { FetchRetryOptions } from './fetch-with-retry.ts';
import { fetchIntoCache } from './file-cache.ts';
import type { IndexProxy, ServedFile } from './index-proxy.ts';
import { createLimiter } from './limiter.ts';
import { fetchPackument } from './npm-registry.ts';
import { listenProxy, openUpstream, sendFile, sendText } from './proxy-server.ts';

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

/**
 * The one registry npm inside the sandbox may use, on a Unix socket (the netns forwarder connects
 * to it). Package documents come from upstream with every `dist.tarball` rewritten to
 * /-/files/<id>/<filename> on this proxy; only tarballs listed in a document it served can be
 * fetched, so the package cannot use it as a relay. Everything else (audit, search, login) is 404.
 * Every request is logged as the record's `index_requests`.
 */
export async function startNpmProxy(options: NpmProxyOptions): Promise<IndexProxy> {
  const limit = createLimiter(4);
  const retry = options.retry ?? {};
  const localRoot = options.registry.startsWith('file:')
    ? fileURLToPath(options.registry).replace(/\/$/, '')
    : null;
  const tarballs = new Map<string, Tarball>();
  const documents = new Map<string, string>();
  const served = new Map<string, ServedFile>();

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

  async function serveTarball(res: ServerResponse, entry: IndexRequest, id: string, filename: string) {
    const tarball = tarballs.get(id);
    if (tarball === undefined || tarball.filename !== filename) {
      Object.assign(entry, {
        status: 404,
        bytes: sendText(res, {
          status: 404,
          body: 'Not listed in any document served.\n',
          type: 'text/plain',
        }),
      });
      return;
    }
    entry.upstream = tarball.url;
    const { file, cached } = await limit(() =>
      fetchIntoCache(options.cacheDir, {
        url: tarball.url,
        expectedSha256: null,
        openSource: () => openUpstream(tarball.url, { localRoot, retry, upstream: 'registry' }),
      }),
    );
    if (!served.has(file.sha256)) {
      served.set(file.sha256, { filename, sha256: file.sha256, size: file.size, project: tarball.project });
    }
    Object.assign(entry, { status: 200, bytes: res.req.method === 'HEAD' ? 0 : file.size, cached });
    await sendFile(res, file);
  }

  async function route(req: IncomingMessage, res: ServerResponse, entry: IndexRequest): Promise<void> {
    const refuse = (status: number, text: string) => {
      Object.assign(entry, { status, bytes: sendText(res, { status, body: text }) });
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
    Object.assign(entry, {
      status: 200,
      bytes: sendText(res, { status: 200, body, type: 'application/json' }),
    });
  }

  const server = await listenProxy(options.socketPath, route);
  return { ...server, socketPath: options.socketPath, servedFiles: () => [...served.values()] };
}
