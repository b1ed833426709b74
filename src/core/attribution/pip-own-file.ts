import { isBuildOwnFile } from '../behaviour/build-own-files.ts';
import type { FileAccess } from '../record/schema.ts';
import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';

/** What pip 23 and Debian's lsb_release read outside the noise areas on every run. */
const PIP_READS = new Set([
  SANDBOX_LAYOUT.workdir,
  '/etc',
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/lsb-release',
]);

/** A file access pip makes on its own: its temp files, wheel cache and platform probes. */
export function isPipOwnFile(file: Pick<FileAccess, 'path' | 'ops'>): boolean {
  if (isBuildOwnFile(file.path)) return true;
  return PIP_READS.has(file.path) && file.ops.every((op) => op === 'read');
}
