import { readFile } from 'node:fs/promises';
import { type Ecosystem, projectKey } from '../core/ecosystem.ts';
import { PkghuntError, toPkghuntError } from '../core/errors.ts';

/**
 * The names of a `--from FILE` list: one per line, `#` comments and blank lines ignored, each the
 * key the store uses (PyPI normalised, npm as written). A name the ecosystem would not accept is
 * a usage error naming its line.
 */
export async function readNames(path: string, ecosystem: Ecosystem): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((cause: unknown) => {
    throw new PkghuntError('LOCAL_FILE_NOT_FOUND', `Cannot read the list of names ${path}`, { cause });
  });
  const names: string[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    try {
      names.push(projectKey(line, ecosystem));
    } catch (error) {
      throw new PkghuntError(
        'USAGE',
        `Cannot use line ${index + 1} of ${path}: ${toPkghuntError(error).message}`,
      );
    }
  }
  return [...new Set(names)];
}
