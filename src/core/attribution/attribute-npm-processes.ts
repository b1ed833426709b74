import type { Attribution, PhaseName } from '../record/schema.ts';
import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';
import type { ProcessNode } from './attribute-processes.ts';

/** Where the runner has npm install packages (the install area, see sandbox/runner.py). */
export const NPM_NODE_MODULES = `${SANDBOX_LAYOUT.venv}/node_modules`;

const NPM_CLI = /(^|\/)(npm|npm-cli\.js)$/;
/** `node -e "require(\"x\")"` or `node --input-type=module -e "await import(...)"`: the runner's probes. */
const PROBE = /^(require|await import)\(/;

export interface AttributeNpmProcessesOptions {
  phase: PhaseName;
  /** The runner (the trace's root): its children are npm (install) or the entry-point probes (import). */
  rootPid: number | null;
  /** The package under analysis, as npm names it (`@scope/name` or `name`). */
  target: string;
}

/**
 * The package whose folder a path is in: the deepest `node_modules/<name>` or
 * `node_modules/@scope/<name>` of it, below the install area. npm runs every lifecycle script
 * (preinstall, install, postinstall, node-gyp) with that folder as its working directory.
 */
export function npmPackageOfPath(path: string): string | null {
  if (!path.startsWith(`${NPM_NODE_MODULES}/`)) return null;
  const parts = path.slice(SANDBOX_LAYOUT.venv.length + 1).split('/');
  let found: string | null = null;
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i] !== 'node_modules') continue;
    const first = parts[i + 1] ?? '';
    if (first.startsWith('.') || first === '') continue;
    if (first.startsWith('@')) {
      const second = parts[i + 2];
      if (second !== undefined && second !== '') found = `${first}/${second}`;
    } else found = first;
  }
  return found;
}

function isNpm(argv: readonly string[] | undefined): boolean {
  return (argv ?? []).slice(0, 2).some((a) => NPM_CLI.test(a));
}

function isProbe(argv: readonly string[] | undefined): boolean {
  const code = argv?.[argv.length - 1] ?? '';
  return argv !== undefined && argv.length >= 3 && argv[argv.length - 2] === '-e' && PROBE.test(code);
}

/**
 * Who each traced process of an npm phase works for. Install: the runner and npm are the installer
 * (kind `pip`, the record's name for the package manager; method `npm`); a process npm started in a
 * package's folder under node_modules is that package's lifecycle script (the package itself or a
 * dependency), and all its descendants are that package's; anything else npm started is unknown.
 * Import: every descendant of the runner's k-th probe is the package's (only the package's own entry
 * points are probed).
 */
export function attributeNpmProcesses(
  processes: readonly ProcessNode[],
  options: AttributeNpmProcessesOptions,
): Map<number, Attribution> {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const out = new Map<number, Attribution>();
  const installer: Attribution = { kind: 'pip', distribution: null, method: 'npm' };
  const resolve = (proc: ProcessNode, depth: number): Attribution => {
    const known = out.get(proc.pid);
    if (known) return known;
    let by: Attribution;
    const parent = proc.ppid === null ? undefined : byPid.get(proc.ppid);
    const parentBy =
      proc.ppid === options.rootPid || parent === undefined || depth > 10_000
        ? null
        : resolve(parent, depth + 1);
    if (parentBy !== null && parentBy.kind !== 'pip' && parentBy.kind !== 'unknown') {
      by = { ...parentBy, method: 'process-tree' };
    } else if (options.phase === 'import') {
      by =
        proc.ppid === options.rootPid && isProbe(proc.argv)
          ? { kind: 'package', distribution: options.target, method: 'import-process' }
          : { kind: 'unknown', distribution: null, method: 'not-an-import-probe' };
    } else if (proc.ppid === options.rootPid) {
      by = isNpm(proc.argv)
        ? installer
        : { kind: 'unknown', distribution: null, method: 'unexpected-child-of-runner' };
    } else if (parentBy?.kind === 'pip') {
      const owner = npmPackageOfPath(proc.cwd ?? '');
      if (owner !== null) {
        by = {
          kind: owner === options.target ? 'package' : 'dependency',
          distribution: owner,
          method: 'script-cwd',
        };
      } else if (isNpm(proc.argv)) by = installer;
      else by = { kind: 'unknown', distribution: null, method: 'unexpected-child-of-npm' };
    } else by = { kind: 'unknown', distribution: null, method: 'no-parent' };
    out.set(proc.pid, by);
    return by;
  };
  for (const proc of processes) resolve(proc, 0);
  if (options.rootPid !== null) out.set(options.rootPid, { ...installer, method: 'runner' });
  return out;
}
