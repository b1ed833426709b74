import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PkghuntError } from '../../core/errors.ts';
import { parseDistFilename } from '../../core/pypi/dist-filename.ts';
import { parseSimpleHtml } from '../../core/pypi/parse-simple-page.ts';
import type { ProjectPage } from '../../core/pypi/project-page.ts';

/**
 * The folder a local index may serve files from: the index folder itself, or its parent when the
 * index is a `simple/` folder (a common layout keeps files in a sibling `files/` folder).
 */
export function localIndexRoot(indexUrl: string): { indexDir: string; allowedRoot: string } {
  const indexDir = fileURLToPath(indexUrl).replace(/\/+$/, '') || '/';
  const allowedRoot = indexDir.endsWith(`${sep}simple`) ? dirname(indexDir) : indexDir;
  return { indexDir, allowedRoot };
}

export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/**
 * Reads a project page from a local PEP 503 directory index. Both DIR/simple/<name>/ and
 * DIR/<name>/ layouts work; a project folder without index.html is listed as is. Links that leave
 * the index's folder are dropped: a page must not turn the proxy into a reader of host files.
 */
export async function readLocalProjectPage(indexUrl: string, normalized: string): Promise<ProjectPage> {
  const { indexDir, allowedRoot } = localIndexRoot(indexUrl);
  const candidates = [join(indexDir, 'simple', normalized), join(indexDir, normalized)];
  for (const dir of candidates) {
    if (!(await isDirectory(dir))) continue;
    const pageUrl = pathToFileURL(dir).href.replace(/\/?$/, '/');
    const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => null);
    if (html !== null) {
      const page = parseSimpleHtml(html, { pageUrl, name: normalized });
      const files = page.files.filter((file) => {
        const url = new URL(file.url);
        if (url.protocol !== 'file:') return url.protocol === 'http:' || url.protocol === 'https:';
        return isInside(fileURLToPath(url), allowedRoot);
      });
      return { name: normalized, files };
    }
    const names = (await readdir(dir)).filter((name) => parseDistFilename(name) !== null).sort();
    return {
      name: normalized,
      files: names.map((filename) => ({
        filename,
        url: pathToFileURL(join(dir, filename)).href,
        hashes: {},
        requiresPython: null,
        yanked: false as const,
      })),
    };
  }
  throw new PkghuntError(
    'PACKAGE_NOT_FOUND',
    `Cannot find project ${normalized} in the local index ${indexDir}`,
    {
      hint: `Expected ${candidates.join(' or ')}.`,
    },
  );
}
