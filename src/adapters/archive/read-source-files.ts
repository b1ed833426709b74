import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';
import { PkghuntError } from '../../core/errors.ts';
import type { SourceFile } from '../../core/static/static-rule.ts';

export interface SourceLimits {
  /** Files returned at most (default 300). */
  maxFiles?: number;
  /** Bytes kept per file (default 512 KiB; the rest is cut). */
  maxFileBytes?: number;
  /** Bytes kept over all files (default 8 MiB). */
  maxTotalBytes?: number;
  /** Uncompressed bytes streamed before giving up (default 256 MiB; decompression bombs). */
  maxExpandedBytes?: number;
}

export interface SourceFiles {
  files: SourceFile[];
  /** True when a limit cut the list or a file. */
  truncated: boolean;
}

/** setup.py, setup.cfg, pyproject.toml and Python sources: what runs at install or import. */
function wanted(path: string): boolean {
  return /(^|\/)(setup\.py|setup\.cfg|pyproject\.toml)$|\.py$|\.pth$/.test(path);
}

/** An npm tarball's package.json (its scripts) and JavaScript sources. */
function wantedNpm(path: string): boolean {
  return /^[^/]+\/package\.json$|\.(js|cjs|mjs)$/.test(path) && !path.includes('/node_modules/');
}

/** setup.py and package __init__.py first: where install- and import-time payloads live. */
function rank(path: string): number {
  if (/^[^/]+\/setup\.py$|^setup\.py$|^[^/]+\/package\.json$/.test(path)) return 0;
  if (/__init__\.py$|\.pth$/.test(path)) return 1;
  if (/(setup\.cfg|pyproject\.toml)$/.test(path)) return 2;
  return 3 + path.split('/').length;
}

function unreadable(filename: string, cause: unknown): PkghuntError {
  return new PkghuntError('ARCHIVE_UNREADABLE', `Cannot read the sources of ${filename}: ${String(cause)}`, {
    hint: 'Give a .tar.gz/.tgz sdist, a .zip sdist or a .whl wheel.',
    cause,
  });
}

class Collector {
  readonly files: SourceFile[] = [];
  truncated = false;
  expanded = 0;
  #kept = 0;
  constructor(
    readonly limits: Required<SourceLimits>,
    readonly keep: (path: string) => boolean = wanted,
  ) {}
  /** Returns false once the expanded budget is spent. */
  count(bytes: number): boolean {
    this.expanded += bytes;
    return this.expanded <= this.limits.maxExpandedBytes;
  }
  add(path: string, data: Buffer, cut: boolean): void {
    const room = Math.max(0, this.limits.maxTotalBytes - this.#kept);
    const bytes = data.subarray(0, Math.min(room, this.limits.maxFileBytes));
    if (cut || bytes.length < data.length) this.truncated = true;
    if (bytes.length === 0) return;
    this.#kept += bytes.length;
    this.files.push({ path, text: bytes.toString('utf8') });
  }
  finish(): SourceFiles {
    this.files.sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
    if (this.files.length > this.limits.maxFiles) this.truncated = true;
    return { files: this.files.slice(0, this.limits.maxFiles), truncated: this.truncated };
  }
}

async function readTarGz(path: string, into: Collector): Promise<void> {
  let overBudget = false;
  const parser = new Parser({
    onReadEntry(entry: ReadEntry) {
      if (entry.type !== 'File' || !into.keep(entry.path)) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      entry.on('data', (chunk: Buffer) => {
        if (size < into.limits.maxFileBytes) chunks.push(chunk);
        size += chunk.length;
      });
      entry.on('end', () => into.add(entry.path, Buffer.concat(chunks), size > into.limits.maxFileBytes));
    },
  });
  const ended = new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
  });
  const source = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of source) {
      if (!into.count((chunk as Buffer).length)) {
        overBudget = true;
        break;
      }
      parser.write(chunk as Buffer);
    }
  } finally {
    source.destroy();
  }
  if (overBudget) {
    into.truncated = true;
    return;
  }
  parser.end();
  await ended;
}

async function readZip(path: string, into: Collector): Promise<void> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (error, z) => {
      if (error || !z) reject(error ?? new Error('cannot open'));
      else resolve(z);
    });
  });
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/') || !into.keep(entry.fileName)) {
        zip.readEntry();
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) {
          reject(error ?? new Error('cannot read member'));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          if (!into.count(chunk.length)) {
            into.truncated = true;
            stream.destroy();
            zip.close();
            resolve();
            return;
          }
          if (size < into.limits.maxFileBytes) chunks.push(chunk);
          size += chunk.length;
        });
        stream.on('error', reject);
        stream.on('end', () => {
          into.add(entry.fileName, Buffer.concat(chunks), size > into.limits.maxFileBytes);
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
}

/**
 * Reads the text of an sdist's or wheel's Python sources straight from the archive, in memory,
 * bounded (file count, bytes per file, bytes in all, expanded bytes): nothing is extracted to
 * disk and nothing is executed. For the static signals of src/core/static.
 */
export async function readSourceFiles(
  path: string,
  limits: SourceLimits & {
    /** Tells the format when the path has no extension (cache blobs). */ filename?: string;
    /** Which files to keep: Python sources (default) or an npm tarball's package.json and JavaScript. */
    sources?: 'pypi' | 'npm';
  } = {},
): Promise<SourceFiles> {
  const filename = limits.filename ?? basename(path);
  const into = new Collector(
    {
      maxFiles: limits.maxFiles ?? 300,
      maxFileBytes: limits.maxFileBytes ?? 512 * 1024,
      maxTotalBytes: limits.maxTotalBytes ?? 8 * 1024 * 1024,
      maxExpandedBytes: limits.maxExpandedBytes ?? 256 * 1024 * 1024,
    },
    limits.sources === 'npm' ? wantedNpm : wanted,
  );
  const lower = filename.toLowerCase();
  try {
    if (lower.endsWith('.whl') || lower.endsWith('.zip')) await readZip(path, into);
    else if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) await readTarGz(path, into);
    else throw new Error('unsupported file extension');
  } catch (error) {
    throw unreadable(filename, error instanceof Error ? error.message : error);
  }
  return into.finish();
}
