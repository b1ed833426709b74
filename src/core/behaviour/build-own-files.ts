import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';

/**
 * Files that pip and the build machinery write for every source build: PEP 517 hook temp dirs
 * (`/tmp/tmpXXXXXXXX/input.json`, `output.json`), pip's short-named temp files in /tmp, its
 * wheel cache in the home directory. Listed in the record (they are real writes), but no
 * evidence of anything the package did.
 */
const HOOK_TEMP = /^\/tmp\/tmp[a-z0-9_]{8}(\/(input|output)\.json)?$/;
const PIP_TEMP_FILE = /^\/tmp\/[a-z0-9_]{8}$/;

export function isBuildOwnFile(path: string): boolean {
  if (HOOK_TEMP.test(path) || PIP_TEMP_FILE.test(path)) return true;
  const home = SANDBOX_LAYOUT.home;
  return path === `${home}/.cache` || path.startsWith(`${home}/.cache/pip`);
}
