import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { z } from 'zod';
import { PkghuntError } from '../../core/errors.ts';
import { isValidNpmName } from '../../core/npm/npm-package-spec.ts';
import { memberPathProblem } from './member-path.ts';

export interface NpmTarballInfo {
  filename: string;
  name: string;
  version: string;
  sha256: string;
  size: number;
  /** The tarball's package.json (what npm reads: scripts, main, exports...). */
  manifest: Record<string, unknown>;
}

const Manifest = z.object({ name: z.string(), version: z.string() }).passthrough();
const MAX_EXPANDED = 256 * 1024 * 1024;
const MAX_MANIFEST = 1024 * 1024;

function unreadable(filename: string, why: string): PkghuntError {
  return new PkghuntError('ARCHIVE_UNREADABLE', `Cannot read npm tarball ${filename}: ${why}`, {
    hint: 'Give a tarball made by `npm pack` (a .tgz holding package/package.json).',
  });
}

/**
 * Name, version and sha256 of a local npm tarball, from its `package/package.json`, read in memory
 * (nothing is extracted; member paths that escape the root and decompression bombs are refused).
 */
export async function inspectNpmTarball(path: string): Promise<NpmTarballInfo> {
  const filename = basename(path);
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) {
    throw new PkghuntError('LOCAL_FILE_NOT_FOUND', `Cannot find local file ${path}`, {
      hint: 'Check the path of the .tgz file.',
    });
  }
  const hash = createHash('sha256');
  let manifestText: string | null = null;
  let problem: PkghuntError | null = null;
  let expanded = 0;
  const parser = new Parser({
    onReadEntry(entry: ReadEntry) {
      const why = memberPathProblem(entry.path);
      if (why !== null)
        problem ??= new PkghuntError(
          'ARCHIVE_PATH_TRAVERSAL',
          `Cannot inspect ${filename}: member ${JSON.stringify(entry.path)} has an unsafe path (${why})`,
        );
      const depthOne = /^[^/]+\/package\.json$/.test(entry.path);
      if (!depthOne || entry.type !== 'File' || manifestText !== null) {
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      entry.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_MANIFEST) chunks.push(chunk);
      });
      entry.on('end', () => {
        manifestText = Buffer.concat(chunks).toString('utf8');
      });
    },
  });
  const ended = new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
  });
  try {
    const gunzip = createGunzip();
    const file = createReadStream(path);
    file.on('data', (chunk) => hash.update(chunk as Buffer));
    for await (const chunk of file.pipe(gunzip)) {
      expanded += (chunk as Buffer).length;
      if (expanded > MAX_EXPANDED) {
        file.destroy();
        throw new PkghuntError(
          'ARCHIVE_TOO_LARGE',
          `Cannot inspect ${filename}: it expands beyond ${MAX_EXPANDED} bytes`,
        );
      }
      parser.write(chunk as Buffer);
    }
    parser.end();
    await ended;
  } catch (error) {
    if (error instanceof PkghuntError) throw error;
    throw unreadable(filename, error instanceof Error ? error.message : String(error));
  }
  if (problem) throw problem;
  if (manifestText === null) throw unreadable(filename, 'it holds no package/package.json');
  let json: unknown;
  try {
    json = JSON.parse(manifestText);
  } catch (error) {
    throw unreadable(filename, `package.json is not JSON: ${(error as Error).message}`);
  }
  const manifest = Manifest.safeParse(json);
  if (!manifest.success || !isValidNpmName(manifest.data.name)) {
    throw unreadable(filename, 'package.json has no valid "name" and "version"');
  }
  return {
    filename,
    name: manifest.data.name,
    version: manifest.data.version,
    sha256: hash.digest('hex'),
    size: info.size,
    manifest: manifest.data,
  };
}
