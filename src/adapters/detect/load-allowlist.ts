import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../config.ts';
import { type Allowlist, parseAllowlist } from '../../core/detect/allowlist.ts';
import { PkghuntError } from '../../core/errors.ts';

/** The reviewed allowlist shipped in the repository. */
export const DEFAULT_ALLOWLIST_PATH = join(PROJECT_ROOT, 'data', 'allowlist.json');

export async function loadAllowlist(path: string = DEFAULT_ALLOWLIST_PATH): Promise<Allowlist> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new PkghuntError('CONFIG_INVALID', `Cannot read the allowlist ${path}: ${String(cause)}`, {
      hint: 'The allowlist is data/allowlist.json in the repository; restore it from git.',
      cause,
    });
  }
  return parseAllowlist(raw);
}
