import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createBrotliDecompress } from 'node:zlib';
import type { TraceBlob } from './store.ts';

/**
 * Brotli at a middle quality: strace text shrinks about 15-25x at quality 5 in a fraction of the
 * time quality 11 takes, and compression runs once per phase on the hunt's critical path.
 */
const BROTLI_QUALITY = 5;

export function traceBlobPath(dir: string, sha256: string): string {
  return join(dir, sha256.slice(0, 2), `${sha256}.br`);
}

/**
 * Compresses a trace file into the content-addressed blob directory (`<dir>/ab/abcd....br`,
 * named by the sha256 of the uncompressed bytes): the same trace twice is stored once, and a
 * half-written blob never carries a final name.
 */
export async function storeTraceBlob(
  dir: string,
  file: string,
  options: { phase: string; kind: string },
): Promise<TraceBlob> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.pkghunt-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      createReadStream(file),
      hashing,
      createBrotliCompress({
        params: {
          [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      }),
      createWriteStream(temp),
    );
    const sha256 = hash.digest('hex');
    const target = traceBlobPath(dir, sha256);
    await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true });
    await rename(temp, target);
    const storedBytes = (await stat(target)).size;
    return { phase: options.phase, kind: options.kind, sha256, bytes, storedBytes };
  } finally {
    await rm(temp, { force: true });
  }
}

/** The uncompressed trace of a stored blob, as a stream. */
export function readTraceBlob(dir: string, sha256: string): NodeJS.ReadableStream {
  return createReadStream(traceBlobPath(dir, sha256)).pipe(createBrotliDecompress());
}
