import { isBuildOwnCommand } from '../behaviour/build-own-commands.ts';
import { normalizeName } from '../pypi/normalize-name.ts';
import type { Attribution, ModuleImport, PhaseName } from '../record/schema.ts';
import type { TracedProcess } from '../trace/trace-behaviour.ts';
import { buildDirOwner } from './build-dir.ts';

/** The process tree as the trace builder exposes it. */
export type ProcessNode = Pick<TracedProcess, 'pid' | 'ppid' | 'argv' | 'cwd' | 'start'>;

export interface AttributeProcessesOptions {
  phase: PhaseName;
  /** The runner (the trace's root): its direct children are pip (install) or the import probes. */
  rootPid: number | null;
  /** Name of the package under analysis. */
  target: string;
  /** Import phase: the runner's module outcomes, in the order it imported them. */
  modules?: readonly ModuleImport[];
}

interface State {
  by: Attribution;
  /** Descends from a pip that installs into an isolated build environment. */
  buildEnv: boolean;
}

const DISTRIBUTION_KINDS = new Set(['package', 'dependency', 'build_dependency']);
const PIP_RUNNER = /(^|\/)pip\/__pip-runner__\.py$/;
const PIP_EXE = /(^|\/)pip3?(\.\d+)?$/;
const IMPORT_PROBE = /^import ([\w.]+)$/;
/** A build hook (PEP 517 or legacy setup.py): always some distribution's, never pip's own. */
const HOOK = /_in_process\.py$|(^|\/)setup\.py\b/;

/**
 * Who each traced process works for (docs/RECORD.md, "Attribution"). Install phase: a process that
 * pip started in an sdist's unpacked source directory is that distribution's build hook, and every
 * descendant of it is that distribution's; a hook below a pip that installs into a build
 * environment is a build dependency's; everything else below the runner is pip's. Import phase: the
 * k-th import probe the runner started imports the k-th module of `modules`; its descendants follow.
 */
export function attributeProcesses(
  processes: readonly ProcessNode[],
  options: AttributeProcessesOptions,
): Map<number, Attribution> {
  const target = normalizeName(options.target);
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const states = new Map<number, State>();
  const probes = options.phase === 'import' ? _probeOwners(processes, options, target) : new Map();

  const resolve = (proc: ProcessNode, depth: number): State => {
    const known = states.get(proc.pid);
    if (known) return known;
    const parentProc = proc.ppid === null ? undefined : byPid.get(proc.ppid);
    let parent: State | null = null;
    if (proc.ppid !== null && proc.ppid === options.rootPid) parent = null;
    else if (parentProc && depth < 10_000) parent = resolve(parentProc, depth + 1);
    const state = _decide(proc, {
      parent,
      parentArgv: parentProc?.argv,
      underRoot: proc.ppid === options.rootPid,
      probes,
      target,
      phase: options.phase,
    });
    states.set(proc.pid, state);
    return state;
  };
  for (const proc of processes) resolve(proc, 0);
  const out = new Map<number, Attribution>();
  for (const [pid, state] of states) out.set(pid, state.by);
  if (options.rootPid !== null && options.phase === 'install') {
    out.set(options.rootPid, { kind: 'pip', distribution: null, method: 'runner' });
  }
  return out;
}

function _decide(
  proc: ProcessNode,
  ctx: {
    parent: State | null;
    parentArgv: readonly string[] | undefined;
    underRoot: boolean;
    probes: Map<number, Attribution>;
    target: string;
    phase: PhaseName;
  },
): State {
  const { parent } = ctx;
  if (parent && DISTRIBUTION_KINDS.has(parent.by.kind)) {
    return { by: { ...parent.by, method: 'process-tree' }, buildEnv: parent.buildEnv };
  }
  if (ctx.phase === 'import') {
    const probe = ctx.probes.get(proc.pid);
    if (probe) return { by: probe, buildEnv: false };
    return { by: _unknown('not-an-import-probe'), buildEnv: false };
  }
  const parentIsPip = parent?.by.kind === 'pip' || ctx.underRoot;
  if (!parentIsPip) return { by: _unknown('no-parent'), buildEnv: false };
  const buildEnv = parent?.buildEnv ?? false;
  const argv = proc.argv ?? [];
  const pip = _isPip(argv);
  const owner = buildDirOwner(proc.cwd ?? '') ?? (pip ? null : _argvOwner(argv));
  if (owner && !pip) {
    const name = owner.kind === 'named' ? owner.name : ctx.target;
    const kind = buildEnv ? 'build_dependency' : name === ctx.target ? 'package' : 'dependency';
    return { by: { kind, distribution: name, method: 'build-dir' }, buildEnv };
  }
  // pip's own children are known (itself, its platform probes); anything else below it ran code
  // pip did not choose (a .pth file of an installed dependency, a hook we could not place): it must
  // not pass as pip's, whose behaviour detection ignores.
  const forked = ctx.parentArgv !== undefined && _sameArgv(argv, ctx.parentArgv);
  if (argv.some((a) => HOOK.test(a)) && !pip) return { by: _unknown('hook-without-build-dir'), buildEnv };
  if (!pip && !forked && !isBuildOwnCommand(argv))
    return { by: _unknown('unexpected-child-of-pip'), buildEnv };
  return {
    by: { kind: 'pip', distribution: null, method: 'process-tree' },
    buildEnv: buildEnv || (pip && argv.some((a) => a.startsWith('/tmp/pip-build-env-'))),
  };
}

function _sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function _argvOwner(argv: readonly string[]): ReturnType<typeof buildDirOwner> {
  for (const arg of argv) {
    const owner = buildDirOwner(arg);
    if (owner) return owner;
  }
  return null;
}

function _isPip(argv: readonly string[]): boolean {
  if (argv.some((a) => PIP_RUNNER.test(a))) return true;
  const m = argv.indexOf('-m');
  if (m !== -1 && argv[m + 1] === 'pip') return true;
  return PIP_EXE.test(argv[0] ?? '');
}

function _unknown(method: string): Attribution {
  return { kind: 'unknown', distribution: null, method };
}

/**
 * The runner imports one module per child process, one after the other, in the order of
 * `modules`: match its k-th probe to the k-th outcome (by name when the order disagrees, e.g. a
 * probe that never exec'd).
 */
function _probeOwners(
  processes: readonly ProcessNode[],
  options: AttributeProcessesOptions,
  target: string,
): Map<number, Attribution> {
  const modules = options.modules ?? [];
  const used = new Set<number>();
  const out = new Map<number, Attribution>();
  const probes = processes
    .filter((p) => p.ppid === options.rootPid && _probeModule(p.argv) !== null)
    .sort((a, b) => a.start - b.start);
  probes.forEach((proc, k) => {
    const module = _probeModule(proc.argv);
    let index = modules[k]?.module === module && !used.has(k) ? k : -1;
    if (index === -1) index = modules.findIndex((m, i) => m.module === module && !used.has(i));
    if (index === -1) return;
    used.add(index);
    const distribution = normalizeName(modules[index]?.distribution ?? target);
    out.set(proc.pid, {
      kind: distribution === target ? 'package' : 'dependency',
      distribution,
      method: 'import-process',
    });
  });
  return out;
}

function _probeModule(argv: readonly string[] | undefined): string | null {
  if (argv?.length !== 3 || argv[1] !== '-c') return null;
  return IMPORT_PROBE.exec(argv[2] ?? '')?.[1] ?? null;
}
