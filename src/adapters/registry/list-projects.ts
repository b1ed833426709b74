import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Parser } from 'htmlparser2';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { normalizeName } from '../../core/pypi/normalize-name.ts';
import type { ProjectInput } from '../store/store.ts';
import { fetchWithRetry } from './fetch-with-retry.ts';
import { localIndexRoot } from './local-index.ts';

const ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

/** One entry of the PEP 691 JSON root page. */
const JsonProject = z
  .object({ name: z.string().min(1), '_last-serial': z.number().int().optional() })
  .loose();

export interface ListProjectsOptions {
  batchSize?: number;
  /** Receives the projects in batches, in index order; the listing waits for it (back-pressure). */
  onBatch: (batch: ProjectInput[]) => Promise<void>;
}

export interface ListProjectsResult {
  count: number;
  format: 'json' | 'html' | 'directory';
}

/**
 * Batches projects and hands each full batch to the consumer, so memory stays bounded by one
 * batch plus the parser's buffer, whatever the size of the index.
 */
function batcher(options: ListProjectsOptions): {
  add: (name: string, lastSerial: number | null) => Promise<void>;
  flush: () => Promise<number>;
} {
  const size = options.batchSize ?? 5000;
  let batch: ProjectInput[] = [];
  let count = 0;
  async function flush(): Promise<number> {
    if (batch.length > 0) {
      const full = batch;
      batch = [];
      await options.onBatch(full);
    }
    return count;
  }
  return {
    async add(name, lastSerial) {
      const trimmed = name.trim();
      if (trimmed === '') return;
      batch.push({ name: trimmed, normalized: normalizeName(trimmed), lastSerial });
      count++;
      if (batch.length >= size) await flush();
    },
    flush,
  };
}

async function listFromJson(body: Readable, options: ListProjectsOptions, where: string): Promise<number> {
  const out = batcher(options);
  const items = body
    // Whole keys and strings only (stream-json's default also emits each one in pieces, which
    // nothing here reads): half the parser's CPU on a 750,000-name list.
    .pipe(pick.withParserAsStream({ filter: 'projects', streamValues: false }))
    .pipe(streamArray.asStream()) as AsyncIterable<{ value: unknown }>;
  try {
    for await (const item of items) {
      const parsed = JsonProject.safeParse(item.value);
      if (!parsed.success) {
        throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot read a project entry of ${where}`, {
          cause: parsed.error,
        });
      }
      await out.add(parsed.data.name, parsed.data['_last-serial'] ?? null);
    }
  } catch (cause) {
    if (cause instanceof PkghuntError) throw cause;
    throw new PkghuntError('INDEX_BAD_RESPONSE', `Cannot parse the project list at ${where}`, { cause });
  }
  return out.flush();
}

/** PEP 503 root page: one <a> per project, its text the project's name. */
async function listFromHtml(body: Readable, options: ListProjectsOptions): Promise<number> {
  const out = batcher(options);
  const names: string[] = [];
  let inAnchor = false;
  let text = '';
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'a') {
          inAnchor = true;
          text = '';
        }
      },
      ontext(chunk) {
        if (inAnchor) text += chunk;
      },
      onclosetag(name) {
        if (name === 'a' && inAnchor) {
          inAnchor = false;
          names.push(text);
        }
      },
    },
    { decodeEntities: true },
  );
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    parser.write(chunk);
    // Names found in this chunk go out before the next chunk is read.
    for (const name of names.splice(0)) await out.add(name, null);
  }
  parser.end();
  for (const name of names.splice(0)) await out.add(name, null);
  return out.flush();
}

async function listLocal(indexUrl: string, options: ListProjectsOptions): Promise<ListProjectsResult> {
  const { indexDir } = localIndexRoot(indexUrl);
  for (const dir of [join(indexDir, 'simple'), indexDir]) {
    const page = join(dir, 'index.html');
    if ((await stat(page).catch(() => null))?.isFile()) {
      return { count: await listFromHtml(createReadStream(page), options), format: 'html' };
    }
  }
  // A directory of project folders without a root page.
  const out = batcher(options);
  const entries = await readdir(indexDir, { withFileTypes: true }).catch((cause: unknown) => {
    throw new PkghuntError('INDEX_UNREACHABLE', `Cannot read the local index ${indexDir}`, { cause });
  });
  for (const entry of entries) if (entry.isDirectory()) await out.add(entry.name, null);
  return { count: await out.flush(), format: 'directory' };
}

/**
 * Lists every project of an index from its simple API root: PEP 691 JSON when the index offers
 * it, PEP 503 HTML otherwise, or a local directory index. Streams: nothing holds the whole list.
 */
export async function listProjects(
  indexUrl: string,
  options: ListProjectsOptions,
): Promise<ListProjectsResult> {
  if (indexUrl.startsWith('file:')) return listLocal(indexUrl, options);
  const response = await fetchWithRetry(indexUrl, {
    headers: { Accept: ACCEPT },
    totalTimeoutMs: 60 * 60_000,
  });
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    throw new PkghuntError(
      response.status === 429 || response.status >= 500 ? 'INDEX_UNREACHABLE' : 'INDEX_BAD_RESPONSE',
      `Cannot list the projects of ${indexUrl}: the index answered ${response.status}`,
    );
  }
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('application/vnd.pypi.simple.v1+json') || type.includes('application/json')) {
    return { count: await listFromJson(body, options, indexUrl), format: 'json' };
  }
  return { count: await listFromHtml(body, options), format: 'html' };
}
