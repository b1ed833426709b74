import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

/**
 * A loopback npm registry over a directory registry (demo/build-npm-registry.ts), read on every
 * request so that a package published into the directory meanwhile is served at once:
 * - `GET /NAME` (`/@scope%2fname`): the package document, its relative tarball URLs made absolute;
 * - `GET /NAME/-/FILE.tgz`: the tarball;
 * - `GET /-/v1/search?text=&size=&from=`: names containing the text, `size` capped at `maxPageSize`
 *   (to test paging), in the registry API's shape; 404 when `search` is off.
 */
export interface NpmRegistryServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export interface NpmRegistryServerOptions {
  search?: boolean;
  maxPageSize?: number;
}

async function packageNames(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (entry.name.startsWith('@')) {
      for (const inner of await readdir(join(root, entry.name))) names.push(`${entry.name}/${inner}`);
    } else names.push(entry.name);
  }
  return names.sort();
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startNpmRegistryServer(
  root: string,
  options: NpmRegistryServerOptions = {},
): Promise<NpmRegistryServer> {
  const requests: string[] = [];
  let base = '';

  async function search(url: URL, res: ServerResponse): Promise<void> {
    if (options.search !== true) return send(res, 404, '{"error":"not found"}');
    const text = url.searchParams.get('text') ?? '';
    const size = Math.min(Number(url.searchParams.get('size') ?? 20), options.maxPageSize ?? 250);
    const from = Number(url.searchParams.get('from') ?? 0);
    const matching: { name: string; version: string; date: string }[] = [];
    for (const name of await packageNames(root)) {
      if (!name.includes(text)) continue;
      const doc = JSON.parse(await readFile(join(root, name, 'index.json'), 'utf8'));
      const version = doc['dist-tags'].latest;
      matching.push({ name, version, date: doc.time?.[version] ?? '2020-01-01T00:00:00.000Z' });
    }
    const objects = matching.slice(from, from + size).map((pkg) => ({ package: pkg, score: { final: 1 } }));
    send(res, 200, JSON.stringify({ objects, total: matching.length, time: new Date().toUTCString() }));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    requests.push(url.pathname + url.search);
    if (url.pathname === '/-/v1/search') return search(url, res);
    const path = decodeURIComponent(url.pathname.slice(1));
    const file = normalize(join(root, path));
    if (!file.startsWith(root + sep)) return send(res, 404, '{}');
    if (path.includes('/-/') && path.endsWith('.tgz')) {
      const bytes = await readFile(file).catch(() => null);
      return bytes === null ? send(res, 404, '{}') : send(res, 200, bytes, 'application/octet-stream');
    }
    const text = await readFile(join(file, 'index.json'), 'utf8').catch(() => null);
    if (text === null || !(await stat(join(file, 'index.json')).catch(() => null))) {
      return send(res, 404, '{"error":"not found"}');
    }
    const doc = JSON.parse(text);
    for (const manifest of Object.values(doc.versions ?? {}) as { dist: { tarball: string } }[]) {
      manifest.dist.tarball = new URL(`${path}/${manifest.dist.tarball}`, base).href;
    }
    send(res, 200, JSON.stringify(doc));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, JSON.stringify({ error: String(error) })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
