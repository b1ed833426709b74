import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';

/**
 * What npm does on its own for every install, as pip's build-own lists do for pip: it reads its
 * configuration (the user's ~/.npmrc, which holds a canary token, the global and built-in npmrc),
 * looks at the home and working directories, and writes its cache and logs (kept in the install
 * area by the runner). Reading ~/.npmrc is npm's own only when an npm process does it: the
 * attribution passes this predicate for files touched by the installer's processes alone.
 */
const NPM_READS = new Set([
  `${SANDBOX_LAYOUT.home}/.npmrc`,
  // npm's git helpers read the user's git configuration; node's resolver (c-ares) reads these two.
  `${SANDBOX_LAYOUT.home}/.gitconfig`,
  '/etc/netsvc.conf',
  '/etc/svc.conf',
  SANDBOX_LAYOUT.home,
  SANDBOX_LAYOUT.venv,
  SANDBOX_LAYOUT.workdir,
  '/etc/npmrc',
  '/etc',
  '/opt',
  '/',
]);

export function isNpmOwnFile(file: { path: string; ops: readonly string[] }): boolean {
  // The install area (node_modules, npm's cache and logs): npm creates it and writes it throughout.
  if (file.path === SANDBOX_LAYOUT.venv || file.path.startsWith(`${SANDBOX_LAYOUT.venv}/`)) return true;
  return NPM_READS.has(file.path) && file.ops.every((op) => op === 'read');
}
