import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { brotliCompress, constants, createBrotliCompress, createBrotliDecompress } from 'node:zlib';
import { type ReduceTraceOptions, TraceReducer } from '../../core/trace/reduce-trace.ts';
import { readBpftraceTrace } from '../tracer/bpftrace.ts';
import type { TraceBlob } from './store.ts';

const compress = promisify(brotliCompress);

/**
 * A full trace (megabytes) is compressed as a stream at quality 9, a 16 MB window: ~50 ms per MB,
 * it runs on the hunt's critical path. A reduced trace is ~20x smaller, so it gets quality 10 (same
 * window) in the thread pool for ~15% less. Node 20 has no zstd.
 */
const FULL = { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_LGWIN]: 24 };
const REDUCED = {
  // 10, not 11: a third of the CPU (11 cost ~0.2-0.5 s per package, a hunt's largest CPU item
  // after pip) for ~2% more bytes (docs/BENCHMARKS.md, "Hunt throughput").
  [constants.BROTLI_PARAM_QUALITY]: 10,
  [constants.BROTLI_PARAM_LGWIN]: 24,
  [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
};

export function traceBlobPath(dir: string, sha256: string): string {
  return join(dir, sha256.slice(0, 2), `${sha256}.br`);
}

/** strace lines start `PID SECONDS.MICROS`; bpftrace's raw records `TOKEN LETTER`. */
async function traceFormat(file: string): Promise<'strace' | 'bpftrace'> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(256), 0, 256, 0);
    return /^\d+ [A-Z]( |$)/m.test(buffer.subarray(0, bytesRead).toString('latin1').split('\n')[0] ?? '')
      ? 'bpftrace'
      : 'strace';
  } finally {
    await handle.close();
  }
}

async function* straceLines(file: string, format: 'strace' | 'bpftrace'): AsyncGenerator<string> {
  if (format === 'bpftrace') {
    yield* readBpftraceTrace(file);
    return;
  }
  // latin1 keeps every byte as one char: the stored text is byte-for-byte the tracer's.
  yield* createInterface({
    input: createReadStream(file, { encoding: 'latin1' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
}

async function placeBlob(dir: string, temp: string, sha256: string): Promise<number> {
  const target = traceBlobPath(dir, sha256);
  await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true });
  await rename(temp, target);
  return (await stat(target)).size;
}

/**
 * Compresses a trace into the content-addressed blob directory (`<dir>/ab/abcd....br`, named by
 * the sha256 of the uncompressed stored text): the same trace twice is stored once, and a
 * half-written blob never carries a final name.
 * - `full`: the tracer's file as it is (strace text, or bpftrace's raw records: kind `bpftrace`).
 * - `reduced`: strace lines (bpftrace's converted) without the noise-area accesses the record only
 *   counts (src/core/trace/reduce-trace.ts); TraceBehaviourBuilder re-derives the behaviour from it.
 */
export async function storeTraceBlob(
  dir: string,
  file: string,
  options: {
    phase: string;
    content: 'full' | 'reduced';
    reduce: ReduceTraceOptions;
    /** `reduced`: the kept lines, already reduced with these options (analyze's reduceTraces): the file is not read again. */
    reducedLines?: readonly string[] | null;
  },
): Promise<TraceBlob> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.pkghunt-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const format = await traceFormat(file);
  const fullBytes = (await stat(file)).size;
  try {
    if (options.content === 'reduced') {
      let kept = options.reducedLines ?? null;
      if (kept === null) {
        const reducer = new TraceReducer(options.reduce);
        const lines: string[] = [];
        for await (const line of straceLines(file, format)) if (reducer.keep(line)) lines.push(line);
        kept = lines;
      }
      const text = Buffer.from(kept.length === 0 ? '' : `${kept.join('\n')}\n`, 'latin1');
      const sha256 = createHash('sha256').update(text).digest('hex');
      await writeFile(
        temp,
        await compress(text, { params: { ...REDUCED, [constants.BROTLI_PARAM_SIZE_HINT]: text.length } }),
      );
      const storedBytes = await placeBlob(dir, temp, sha256);
      return {
        phase: options.phase,
        kind: 'strace',
        content: 'reduced',
        sha256,
        bytes: text.length,
        storedBytes,
        fullBytes,
      };
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(
      createReadStream(file),
      hashing,
      createBrotliCompress({
        params: { ...FULL, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
      }),
      createWriteStream(temp),
    );
    const sha256 = hash.digest('hex');
    const storedBytes = await placeBlob(dir, temp, sha256);
    return { phase: options.phase, kind: format, content: 'full', sha256, bytes, storedBytes, fullBytes };
  } finally {
    await rm(temp, { force: true });
  }
}

/** The uncompressed trace of a stored blob, as a stream. */
export function readTraceBlob(dir: string, sha256: string): NodeJS.ReadableStream {
  return createReadStream(traceBlobPath(dir, sha256)).pipe(createBrotliDecompress());
}
