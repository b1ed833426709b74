import type { z } from 'zod';
import type { HttpRequestInfo } from '../record/schema.ts';

export type HttpRequestHead = z.infer<typeof HttpRequestInfo>;

const REQUEST_LINE = /^([A-Z][A-Z_-]{0,19}) (\S{1,8192}) HTTP\/\d(?:\.\d)?$/;
const MAX_HEAD = 16384;

/** Reads method, Host and path from the first bytes of a connection; null when it is not HTTP/1. */
export function parseHttpRequestHead(bytes: Uint8Array): HttpRequestHead | null {
  const text = _latin1(bytes.subarray(0, MAX_HEAD));
  const lineEnd = text.indexOf('\n');
  if (lineEnd < 0) return null;
  const match = REQUEST_LINE.exec(text.slice(0, lineEnd).replace(/\r$/, ''));
  if (!match) return null;
  const [, method = '', path = ''] = match;
  let host: string | null = null;
  const headEnd = text.search(/\r?\n\r?\n/);
  const lines = text.slice(lineEnd + 1, headEnd < 0 ? undefined : headEnd).split(/\r?\n/);
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'host') {
      host = line.slice(colon + 1).trim();
      break;
    }
  }
  return { method, host, path };
}

function _latin1(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}
