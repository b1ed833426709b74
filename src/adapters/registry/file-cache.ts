import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';

/**
 * Content-addressed download cache shared by every proxy and run:
 *   CACHE/sha256/ab/abcdef...   the file, named by its sha256
 *   CACHE/urls/<sha256(url)>.json   which file a URL gave
 * Writes go to CACHE/tmp then rename(2), so readers never see half a file; a lock file per URL
 * makes concurrent processes fetch it once.
 */
export interface CachedFile {
  sha256: string;
  size: number;
  path: string;
}

const UrlEntry = z.object({
  url: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int(),
});

const LOCK_STALE_MS = 120_000;
const LOCK_TOUCH_MS = 20_000;
const LOCK_POLL_MS = 100;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function blobPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'sha256', sha256.slice(0, 2), sha256);
}

function urlEntryPath(cacheDir: string, url: string): string {
  return join(cacheDir, 'urls', `${sha256Hex(url)}.json`);
}

async function blobIfPresent(cacheDir: string, sha256: string): Promise<CachedFile | null> {
  const path = blobPath(cacheDir, sha256);
  const info = await stat(path).catch(() => null);
  return info?.isFile() ? { sha256, size: info.size, path } : null;
}

async function writeAtomically(cacheDir: string, path: string, data: string): Promise<void> {
  const tmp = join(cacheDir, 'tmp', `${randomBytes(8).toString('hex')}.json`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** The cached file a URL gave before, or null. */
export async function lookupCachedUrl(cacheDir: string, url: string): Promise<CachedFile | null> {
  const text = await readFile(urlEntryPath(cacheDir, url), 'utf8').catch(() => null);
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const entry = UrlEntry.safeParse(raw);
  if (!entry.success || entry.data.url !== url) return null;
  return blobIfPresent(cacheDir, entry.data.sha256);
}

async function remember(cacheDir: string, url: string, file: CachedFile): Promise<void> {
  const entry: z.infer<typeof UrlEntry> = { url, sha256: file.sha256, size: file.size };
  await writeAtomically(cacheDir, urlEntryPath(cacheDir, url), JSON.stringify(entry));
}

async function download(
  cacheDir: string,
  source: Readable,
  options: { url: string; expectedSha256: string | null },
): Promise<CachedFile> {
  const tmp = join(cacheDir, 'tmp', `${randomBytes(8).toString('hex')}.part`);
  const hash = createHash('sha256');
  let size = 0;
  source.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    size += chunk.length;
  });
  try {
    await pipeline(source, createWriteStream(tmp, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    if (options.expectedSha256 !== null && sha256 !== options.expectedSha256.toLowerCase()) {
      throw new PkghuntError(
        'INDEX_BAD_RESPONSE',
        `Cannot accept ${options.url}: sha256 ${sha256} differs from the index's ${options.expectedSha256}`,
        { hint: 'The file changed or was tampered with on the way; retry, and report it if it persists.' },
      );
    }
    const path = blobPath(cacheDir, sha256);
    await mkdir(join(cacheDir, 'sha256', sha256.slice(0, 2)), { recursive: true });
    await rename(tmp, path);
    return { sha256, size, path };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function tryLock(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    await handle.write(String(process.pid));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * What the URL gave before, if it can still be trusted: the index's hash, when the page gives
 * one, must match (a local index may rebuild a file under the same name); a local file without
 * a hash is read again rather than trusted.
 */
async function knownForUrl(
  cacheDir: string,
  options: { url: string; expectedSha256: string | null },
): Promise<CachedFile | null> {
  if (options.expectedSha256 === null && options.url.startsWith('file:')) return null;
  const known = await lookupCachedUrl(cacheDir, options.url);
  if (!known) return null;
  if (options.expectedSha256 !== null && known.sha256 !== options.expectedSha256.toLowerCase()) return null;
  return known;
}

const inFlight = new Map<string, Promise<{ file: CachedFile; cached: boolean }>>();

/**
 * The file behind `url`, from the cache when it is there, otherwise fetched once (across this
 * process and others sharing `cacheDir`) with `openSource` and verified against `expectedSha256`.
 */
export function fetchIntoCache(
  cacheDir: string,
  options: { url: string; expectedSha256: string | null; openSource: () => Promise<Readable> },
): Promise<{ file: CachedFile; cached: boolean }> {
  const key = `${cacheDir}\0${options.url}`;
  const running = inFlight.get(key);
  if (running) return running.then((result) => ({ file: result.file, cached: true }));
  const task = fetchOnce(cacheDir, options).finally(() => inFlight.delete(key));
  inFlight.set(key, task);
  return task;
}

async function fetchOnce(
  cacheDir: string,
  options: { url: string; expectedSha256: string | null; openSource: () => Promise<Readable> },
): Promise<{ file: CachedFile; cached: boolean }> {
  await Promise.all(
    ['tmp', 'urls', 'sha256', 'locks'].map((d) => mkdir(join(cacheDir, d), { recursive: true })),
  );
  const lockPath = join(cacheDir, 'locks', `${sha256Hex(options.url)}.lock`);
  for (;;) {
    const known = await knownForUrl(cacheDir, options);
    if (known) return { file: known, cached: true };
    if (options.expectedSha256 !== null) {
      // The same bytes may have come from another URL (a mirror, a re-listed file).
      const blob = await blobIfPresent(cacheDir, options.expectedSha256.toLowerCase());
      if (blob) {
        await remember(cacheDir, options.url, blob);
        return { file: blob, cached: true };
      }
    }
    if (await tryLock(lockPath)) break;
    const lock = await stat(lockPath).catch(() => null);
    if (lock && Date.now() - lock.mtimeMs > LOCK_STALE_MS) {
      // Its holder died mid-download; whoever unlinks first retries the lock.
      await unlink(lockPath).catch(() => undefined);
      continue;
    }
    await sleep(LOCK_POLL_MS);
  }
  const touch = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => undefined);
  }, LOCK_TOUCH_MS);
  try {
    const known = await knownForUrl(cacheDir, options);
    if (known) return { file: known, cached: true };
    const file = await download(cacheDir, await options.openSource(), options);
    await remember(cacheDir, options.url, file);
    return { file, cached: false };
  } finally {
    clearInterval(touch);
    await unlink(lockPath).catch(() => undefined);
  }
}
