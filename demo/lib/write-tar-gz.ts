import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Header } from 'tar';
import { PkghuntError } from '../../src/core/errors.ts';

export type TarEntry =
  | { type: 'File'; path: string; data: Buffer; mode?: number }
  | { type: 'Directory'; path: string; mode?: number }
  | { type: 'SymbolicLink'; path: string; linkpath: string };

/** Fixed so that rebuilding the same sources gives byte-identical archives (stable sha256 in the index). */
export const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');

const BLOCK = 512;

/** One ustar header block. `size` may exceed the data actually given (callers that stream the body). */
export function encodeTarHeader(
  entry: TarEntry | { type: 'File'; path: string; size: number; mode?: number },
): Buffer {
  const size = entry.type === 'File' ? ('data' in entry ? entry.data.length : entry.size) : 0;
  const header = new Header({
    path: entry.path,
    type: entry.type,
    mode:
      entry.type === 'SymbolicLink' ? 0o777 : (entry.mode ?? (entry.type === 'Directory' ? 0o755 : 0o644)),
    size,
    mtime: FIXED_MTIME,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    ...(entry.type === 'SymbolicLink' ? { linkpath: entry.linkpath } : {}),
  });
  const block = Buffer.alloc(BLOCK);
  // needPax means the path does not fit ustar; fixture paths are short, so refuse rather than write a pax header.
  if (header.encode(block, 0)) {
    throw new PkghuntError(
      'INTERNAL',
      `Cannot write tar header for ${entry.path}: the path is too long for ustar`,
    );
  }
  return block;
}

/** Zero padding after a member body of `size` bytes, up to the next block boundary. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The two zero blocks that end a tar stream. */
export const TAR_END = Buffer.alloc(BLOCK * 2);

function* _blocks(entries: TarEntry[]): Generator<Buffer> {
  for (const entry of entries) {
    yield encodeTarHeader(entry);
    if (entry.type === 'File') {
      yield entry.data;
      yield tarPadding(entry.data.length);
    }
  }
  yield TAR_END;
}

/** Writes the entries, in the given order, as a gzip-compressed tar file. */
export async function writeTarGz(path: string, entries: TarEntry[]): Promise<void> {
  await pipeline(Readable.from(_blocks(entries)), createGzip({ level: 9 }), createWriteStream(path));
}
