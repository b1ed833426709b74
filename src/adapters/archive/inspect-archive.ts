import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';
import { PkghuntError } from '../../core/errors.ts';
import { parseDistFilename } from '../../core/pypi/dist-filename.ts';
import { parsePkgInfo } from '../../core/pypi/pkg-info.ts';
import { memberPathProblem } from './member-path.ts';

export interface ArchiveLimits {
  /** Uncompressed bytes allowed in total (default 512 MiB). */
  maxTotalBytes?: number;
  /** Members allowed (default 20000). */
  maxMembers?: number;
  /** Uncompressed / compressed size allowed (default 200), checked once past 1 MiB. */
  maxRatio?: number;
}

export interface ArchiveInfo {
  kind: 'sdist' | 'wheel';
  filename: string;
  name: string;
  version: string;
  sha256: string;
  size: number;
}

/** Below this many expanded bytes a high ratio is harmless (tiny, very regular text files). */
const RATIO_FLOOR = 1 << 20;
const PKG_INFO_MAX = 256 * 1024;

interface Budget {
  limits: Required<ArchiveLimits>;
  compressed: number;
  expanded: number;
  members: number;
  filename: string;
}

function tooLarge(budget: Budget, why: string): PkghuntError {
  return new PkghuntError('ARCHIVE_TOO_LARGE', `Cannot inspect ${budget.filename}: ${why}`, {
    hint: 'A decompression bomb, or a genuinely huge package: raise the limits only if you trust it.',
  });
}

function countExpanded(budget: Budget, bytes: number): PkghuntError | null {
  budget.expanded += bytes;
  if (budget.expanded > budget.limits.maxTotalBytes) {
    return tooLarge(budget, `it expands beyond ${budget.limits.maxTotalBytes} bytes`);
  }
  if (
    budget.expanded > RATIO_FLOOR &&
    budget.expanded / Math.max(1, budget.compressed) > budget.limits.maxRatio
  ) {
    return tooLarge(budget, `it expands more than ${budget.limits.maxRatio} times its size`);
  }
  return null;
}

function countMember(budget: Budget, path: string, link?: { kind: 'symlink' | 'hardlink'; target: string }) {
  budget.members++;
  if (budget.members > budget.limits.maxMembers)
    return tooLarge(budget, `more than ${budget.limits.maxMembers} members`);
  const problem = memberPathProblem(path, link);
  if (problem === null) return null;
  const shown = link ? `${path} -> ${link.target}` : path;
  return new PkghuntError(
    'ARCHIVE_PATH_TRAVERSAL',
    `Cannot accept ${budget.filename}: member ${shown} (${problem})`,
    {
      hint: 'The archive tries to write outside its folder; treat it as hostile.',
    },
  );
}

function unreadable(filename: string, cause: unknown): PkghuntError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new PkghuntError('ARCHIVE_UNREADABLE', `Cannot read archive ${filename}: ${why}`, {
    hint: 'Give a .tar.gz/.tgz sdist, a .zip sdist or a .whl wheel.',
    cause,
  });
}

function isPkgInfo(path: string): boolean {
  return /^[^/]+\/PKG-INFO$/.test(path.replace(/^\.\//, ''));
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Walks a gzip'ed tar without writing anything to disk; returns PKG-INFO's text when present. */
async function walkTarGz(path: string, budget: Budget): Promise<string | null> {
  let failure: PkghuntError | null = null;
  let pkgInfo: string | null = null;
  let entries = 0;
  const parser = new Parser({
    strict: true,
    onReadEntry(entry: ReadEntry) {
      entries++;
      const link =
        entry.type === 'SymbolicLink'
          ? { kind: 'symlink' as const, target: entry.linkpath ?? '' }
          : entry.type === 'Link'
            ? { kind: 'hardlink' as const, target: entry.linkpath ?? '' }
            : undefined;
      failure ??= countMember(budget, entry.path, link);
      if (entry.type === 'File' && isPkgInfo(entry.path) && pkgInfo === null) {
        const chunks: Buffer[] = [];
        let size = 0;
        entry.on('data', (chunk: Buffer) => {
          if (size < PKG_INFO_MAX) chunks.push(chunk);
          size += chunk.length;
        });
        entry.on('end', () => {
          pkgInfo = Buffer.concat(chunks).toString('utf8');
        });
        return;
      }
      entry.resume();
    },
  });
  let parserError: unknown = null;
  parser.on('error', (error: unknown) => {
    parserError ??= error;
  });
  const ended = new Promise<void>((resolve) => parser.on('end', () => resolve()));
  const source: Readable = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of source) {
      failure ??= countExpanded(budget, (chunk as Buffer).length);
      if (failure !== null || parserError !== null) break;
      parser.write(chunk as Buffer);
    }
  } catch (error) {
    throw unreadable(budget.filename, error);
  } finally {
    source.destroy();
  }
  if (failure !== null) throw failure;
  if (parserError === null) {
    parser.end();
    await ended;
  }
  // Set from parser callbacks that TypeScript cannot see running.
  const late = failure as PkghuntError | null;
  if (late !== null) throw late;
  if (parserError !== null) throw unreadable(budget.filename, parserError);
  if (entries === 0) throw unreadable(budget.filename, new Error('no tar members'));
  return pkgInfo;
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) reject(error ?? new Error('cannot open'));
      else resolve(zip);
    });
  });
}

function readEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  onChunk: (chunk: Buffer) => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error || !stream) {
        reject(error ?? new Error('cannot read member'));
        return;
      }
      stream.on('data', (chunk: Buffer) => {
        if (!onChunk(chunk)) {
          stream.destroy();
          resolve();
        }
      });
      stream.on('error', reject);
      stream.on('end', () => resolve());
    });
  });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** Reads every member of a zip (counting real inflated bytes); returns PKG-INFO's text when present. */
async function walkZip(path: string, budget: Budget): Promise<string | null> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (error) {
    throw unreadable(budget.filename, error);
  }
  if (zip.entryCount > budget.limits.maxMembers) {
    zip.close();
    throw tooLarge(budget, `${zip.entryCount} members, more than ${budget.limits.maxMembers}`);
  }
  let pkgInfo: string | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const isLink = ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
          const chunks: Buffer[] = [];
          let failure: PkghuntError | null = null;
          if (!entry.fileName.endsWith('/')) {
            await readEntry(zip, entry, (chunk) => {
              failure = countExpanded(budget, chunk.length);
              if ((isLink || isPkgInfo(entry.fileName)) && chunks.length < 64) chunks.push(chunk);
              return failure === null;
            });
          }
          const text = Buffer.concat(chunks).toString('utf8');
          failure ??= countMember(
            budget,
            entry.fileName,
            isLink ? { kind: 'symlink', target: text } : undefined,
          );
          if (failure !== null) throw failure;
          if (isPkgInfo(entry.fileName) && pkgInfo === null) pkgInfo = text;
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } catch (error) {
    zip.close();
    if (error instanceof PkghuntError) throw error;
    const message = error instanceof Error ? error.message : '';
    if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(message)) {
      throw new PkghuntError('ARCHIVE_PATH_TRAVERSAL', `Cannot accept ${budget.filename}: ${message}`, {
        hint: 'The archive tries to write outside its folder; treat it as hostile.',
        cause: error,
      });
    }
    throw unreadable(budget.filename, error);
  }
  return pkgInfo;
}

function archiveKind(filename: string): { kind: 'sdist' | 'wheel'; format: 'tar.gz' | 'zip' } | null {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.whl')) return { kind: 'wheel', format: 'zip' };
  if (lower.endsWith('.zip')) return { kind: 'sdist', format: 'zip' };
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return { kind: 'sdist', format: 'tar.gz' };
  return null;
}

/**
 * Checks a local sdist or wheel without unpacking it to disk: every member is read (so the real
 * expanded size counts, not the headers' word), unsafe paths and links are refused, and the
 * project name and version are read from the wheel filename or the sdist's PKG-INFO.
 */
export async function inspectArchive(path: string, limits: ArchiveLimits = {}): Promise<ArchiveInfo> {
  const filename = basename(path);
  const info = await stat(path).catch(() => null);
  if (info === null) {
    throw new PkghuntError('LOCAL_FILE_NOT_FOUND', `Cannot find local file ${path}`, {
      hint: 'Check the path; relative paths are read from the current directory.',
    });
  }
  if (!info.isFile()) throw unreadable(filename, new Error('not a regular file'));
  const kind = archiveKind(filename);
  if (kind === null) throw unreadable(filename, new Error('unsupported file extension'));
  const budget: Budget = {
    limits: {
      maxTotalBytes: limits.maxTotalBytes ?? 512 * 1024 * 1024,
      maxMembers: limits.maxMembers ?? 20_000,
      maxRatio: limits.maxRatio ?? 200,
    },
    compressed: info.size,
    expanded: 0,
    members: 0,
    filename,
  };
  const pkgInfo = kind.format === 'zip' ? await walkZip(path, budget) : await walkTarGz(path, budget);
  const fromFile = parseDistFilename(filename);
  const meta = pkgInfo === null ? { name: null, version: null } : parsePkgInfo(pkgInfo);
  const name = kind.kind === 'wheel' ? fromFile?.name : (meta.name ?? fromFile?.name);
  const version = kind.kind === 'wheel' ? fromFile?.version : (meta.version ?? fromFile?.version);
  if (!name || !version) {
    throw unreadable(
      filename,
      new Error('cannot tell the project name and version (no PKG-INFO, odd filename)'),
    );
  }
  return { kind: kind.kind, filename, name, version, sha256: await sha256Of(path), size: info.size };
}
