import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';

export type IndexForm = 'html' | 'json';

/**
 * The i-th synthetic project name: mixed case and the separators PEP 503 normalises (`-`, `_`,
 * `.`), so that the sync does the same normalisation work as on a real index. Unique per i.
 */
export function syntheticName(i: number): string {
  const id = i.toString(36);
  switch (i % 4) {
    case 0:
      return `py-${id}-utils`;
    case 1:
      return `Django_${id}.Ext`;
    case 2:
      return `${id}lib`;
    default:
      return `Flask.${id}-Plugin_x`;
  }
}

const HTML_HEAD =
  '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n' +
  '    <title>Simple index</title>\n  </head>\n  <body>\n';

/** The root page as chunks of ~1000 entries: generated while sent, never held whole in memory. */
function* rootPage(form: IndexForm, count: number): Generator<string> {
  const per = 1000;
  if (form === 'html') {
    yield HTML_HEAD;
    for (let start = 0; start < count; start += per) {
      let chunk = '';
      for (let i = start; i < Math.min(count, start + per); i++) {
        const name = syntheticName(i);
        chunk += `    <a href="/simple/${name.toLowerCase().replace(/[-_.]+/g, '-')}/">${name}</a>\n`;
      }
      yield chunk;
    }
    yield '  </body>\n</html>\n';
    return;
  }
  yield `{"meta":{"api-version":"1.1","_last-serial":${count}},"projects":[`;
  for (let start = 0; start < count; start += per) {
    const parts: string[] = [];
    for (let i = start; i < Math.min(count, start + per); i++) {
      parts.push(`{"name":${JSON.stringify(syntheticName(i))},"_last-serial":${i + 1}}`);
    }
    yield `${start === 0 ? '' : ','}${parts.join(',')}`;
  }
  yield ']}\n';
}

/** Size of the root page in bytes (the report says how much each form sends). */
export function rootPageBytes(form: IndexForm, count: number): number {
  let total = 0;
  for (const chunk of rootPage(form, count)) total += Buffer.byteLength(chunk);
  return total;
}

export interface SyntheticIndex {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `count` synthetic project names at http://127.0.0.1:PORT/simple/ in one form only (the
 * JSON server answers PEP 691 JSON whatever the client accepts, the HTML one PEP 503 HTML), with
 * the body streamed under back-pressure like a real index's chunked response.
 */
export async function serveSyntheticIndex(form: IndexForm, count: number): Promise<SyntheticIndex> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/simple/' && req.url !== '/simple') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': form === 'json' ? 'application/vnd.pypi.simple.v1+json' : 'text/html; charset=utf-8',
    });
    Readable.from(rootPage(form, count)).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Cannot read the index port');
  return {
    url: `http://127.0.0.1:${address.port}/simple/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
