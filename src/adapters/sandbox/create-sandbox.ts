import { randomBytes } from 'node:crypto';
import { chmod, mkdir, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCanaries } from '../../core/canary/make-canaries.ts';
import { PkghuntError } from '../../core/errors.ts';
import type {
  LimitName,
  Limits,
  ModuleImport,
  PhaseName,
  PhaseStatus,
  Survivor,
} from '../../core/record/schema.ts';
import { SANDBOX_LAYOUT } from '../../core/sandbox/layout.ts';
import type { Tracer } from '../tracer/tracer.ts';
import { bwrapArgs, launcherPrefix, sandboxEnv, setprivArgs } from './bwrap-args.ts';
import { checkSandboxCapabilities, type SandboxCapabilities } from './capabilities.ts';
import { createCgroups, type SandboxCgroups } from './cgroups.ts';
import { type LaunchPart, type LaunchResult, launch, launchTwoParts, type OutputStream } from './launch.ts';
import { killUid, listPidsOfUid } from './proc-scan.ts';
import { prepareRunDir, RUN_DIR_PARTS, removeRunDir } from './run-dir.ts';
import { runnerFiles } from './runner-files.ts';
import { ImportPlan, parseRunnerResult } from './runner-result.ts';
import { allocateUid, releaseUid } from './uid-lock.ts';

export const DEFAULT_STATE_DIR = '/run/pkghunt';
/** Time the runner gets after its own deadline to kill what is left and write its result. */
const RUNNER_GRACE_MS = 3000;
const SANDBOX_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface ExecOptions {
  timeoutMs: number;
  netns: string | null;
  tracer: Tracer;
  traceFile: string;
  /** Decoded output as it arrives (UTF-8 sequences split across chunks are kept whole). */
  onOutput?: (stream: OutputStream, text: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  startedAt: number;
  stdoutTail: string;
  stderrTail: string;
  outputBytes: number;
  limitsHit: LimitName[];
  /** Set when the launcher could not be spawned. */
  spawnError: string | null;
}

export interface PhaseOptions extends ExecOptions {
  /** The index URL as pip sees it inside the netns, e.g. http://127.0.0.1:PORT/simple/. */
  indexUrl: string;
  /** `name==version`, or the in-sandbox artifact path (SANDBOX_LAYOUT.artifactsDir/<basename>). */
  target: string;
  /** Install from the local artifact only, without any index. */
  noIndex?: boolean;
  /** The distribution to inspect / import; derived from `target` when absent. */
  distributionName?: string;
  /** `npm`: the runner installs with npm (target `name@version` or a .tgz) and probes require/import. */
  ecosystem?: 'pypi' | 'npm';
}

export interface PhaseRun {
  status: PhaseStatus;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  startedAt: number;
  stdoutTail: string;
  stderrTail: string;
  outputBytes: number;
  limitsHit: LimitName[];
  reason: string | null;
  survivors: Survivor[];
  modules: ModuleImport[];
  distribution: { name: string; version: string; topLevel: string[] } | null;
  /** Install phase: the distributions in the venv afterwards (empty when the runner did not say). */
  installed: { name: string; version: string }[];
  /**
   * Where the phase's wall time went, ms (profiling only, never in the record): `launcher` (spawn
   * to the runner's first line: tracer, cgroup join, netns, setpriv, bwrap, Python start-up), the
   * runner's own steps (`venv`, `pip`, `reap`, `inspect`, `imports`, ...), `exit` (the runner's
   * end to the launcher's exit), `after` (killing leftovers, reading counters).
   */
  timings: Record<string, number>;
}

export interface TwoPhaseOptions extends PhaseOptions {
  /** The import phase's own time limit (`timeoutMs` is the install phase's). */
  importTimeoutMs: number;
  /**
   * Called between the phases, once the install phase's processes are gone, with its run (output
   * tails may still lack the last chunks: the run returned at the end is whole). Resolves to
   * whether the import phase runs; called only when the install phase completed.
   */
  onInstallEnd: (install: PhaseRun) => Promise<boolean>;
  onPhaseOutput?: (phase: PhaseName, stream: OutputStream, text: string) => void;
}

export interface Sandbox {
  readonly id: string;
  /** The unprivileged host uid every sandboxed process runs as. */
  readonly hostUid: number;
  /** Host directory (a tmpfs) holding home, workdir, tmp, venv. */
  readonly runDir: string;
  readonly enforcement: Record<string, string>;
  /** Runs any argv in the sandbox layout (tests, diagnostics). */
  exec(argv: readonly string[], options: ExecOptions): Promise<ExecResult>;
  runPhase(phase: PhaseName, options: PhaseOptions): Promise<PhaseRun>;
  /**
   * Both phases in one launch (one runner start, one launcher chain): the install phase, then,
   * after onInstallEnd said so, the import phase. The trace file holds both, split at the
   * runner's SANDBOX_LAYOUT.phaseMark (see splitPhaseTrace). `import` is null when it did not run.
   */
  runInstallThenImport(options: TwoPhaseOptions): Promise<{ install: PhaseRun; import: PhaseRun | null }>;
  /** Kills everything, removes cgroups, the tmpfs and the run dir, releases the uid. Idempotent. */
  destroy(): Promise<void>;
}

export interface CreateSandboxOptions {
  id: string;
  limits: Limits;
  canaryToken: string;
  /** Host path of a local sdist/wheel, exposed read-only at SANDBOX_LAYOUT.artifactsDir/<basename>. */
  localArtifact?: string;
  stateDir?: string;
  uidBase?: number;
}

/** Where a sandbox's owner record lives: lets cleanupStaleSandboxes undo the work of a dead process. */
export function ownerFile(stateDir: string, id: string): string {
  return join(stateDir, 'runs', `${id}.owner.json`);
}

export function runDirOf(stateDir: string, id: string): string {
  return join(stateDir, 'runs', id);
}

const DISK_POLL_MS = 50;

async function _diskNearlyFull(runDir: string): Promise<boolean> {
  try {
    const s = await statfs(runDir);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    return free < Math.max(256 * 1024, total * 0.02);
  } catch {
    return false;
  }
}

function _derivedDistribution(target: string): string | undefined {
  const base = target.split('/').pop() ?? target;
  if (base.endsWith('.whl')) return base.split('-')[0];
  const sdist = /^(.+)-[^-]+\.(tar\.gz|zip|tar\.bz2|tgz)$/.exec(base);
  if (sdist) return sdist[1];
  return /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(target)?.[1];
}

/** Creates one sandbox: a uid, a tmpfs run dir with canaries, cgroups. Call destroy() in a finally. */
export async function createSandbox(options: CreateSandboxOptions): Promise<Sandbox> {
  if (!SANDBOX_ID.test(options.id)) {
    throw new PkghuntError(
      'SANDBOX_SETUP_FAILED',
      `Cannot create a sandbox with id ${JSON.stringify(options.id)}`,
      {
        hint: 'Use letters, digits, dot, dash and underscore only.',
      },
    );
  }
  const caps: SandboxCapabilities = await checkSandboxCapabilities();
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const { id, limits } = options;
  const canaries = makeCanaries(options.canaryToken);
  const runner = await runnerFiles();
  // The sandbox uid must traverse the state directory to reach its run directory, whoever made it
  // first (the socket and uid-lock directories are created 0700 with it): search bit only, no listing.
  await mkdir(stateDir, { recursive: true, mode: 0o711 });
  const stateMode = (await stat(stateDir)).mode;
  if ((stateMode & 0o001) === 0) await chmod(stateDir, (stateMode & 0o7777) | 0o011);
  await mkdir(join(stateDir, 'runs'), { recursive: true, mode: 0o711 });
  const hostUid = await allocateUid({
    stateDir,
    ...(options.uidBase === undefined ? {} : { base: options.uidBase }),
  });
  const runDir = runDirOf(stateDir, id);
  let cgroups: SandboxCgroups | null = null;
  let destroyed = false;
  /** The install phase's import plan, written read-only into the sandbox's /pkghunt for the import phase. */
  let planWritten = false;
  const memoryBytes = Math.floor(limits.memory_mb * 1024 * 1024);

  async function killAll(): Promise<void> {
    await cgroups?.killAll();
    await killUid(hostUid);
  }

  async function destroy(): Promise<void> {
    if (destroyed) return;
    destroyed = true;
    await killAll();
    await cgroups?.remove();
    await removeRunDir(runDir);
    await unlink(ownerFile(stateDir, id)).catch(() => undefined);
    if ((await listPidsOfUid(hostUid)).length === 0) await releaseUid(hostUid, { stateDir });
  }

  try {
    // Claims the id: a second sandbox with the same id must fail here, before touching the first one's files.
    await writeFile(
      ownerFile(stateDir, id),
      JSON.stringify({ pid: process.pid, uid: hostUid, runDir, cgroup: caps.cgroup }),
      { mode: 0o600, flag: 'wx' },
    );
  } catch (error) {
    await releaseUid(hostUid, { stateDir });
    throw new PkghuntError(
      'SANDBOX_SETUP_FAILED',
      `Cannot create sandbox ${id}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'Use a unique id; run cleanupStaleSandboxes() to clear leftovers of a crashed run.',
      },
    );
  }
  try {
    await prepareRunDir(runDir, {
      uid: hostUid,
      diskMb: limits.disk_mb,
      canaries,
      runner,
      localArtifact: options.localArtifact,
    });
    if (caps.cgroup !== null) {
      cgroups = await createCgroups(id, { version: caps.cgroup, memoryBytes, pids: limits.pids });
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  const env = sandboxEnv(canaries.env);

  function launcherArgv(command: readonly string[], netns: string | null, lastFd = 3): string[] {
    // Without cgroups, rlimits: RLIMIT_NPROC counts per real uid, and this uid is the sandbox's alone.
    const { tools } = caps;
    const limiter =
      cgroups === null ? [tools.prlimit, `--as=${memoryBytes}`, `--nproc=${limits.pids}`, '--'] : [];
    return [
      ...launcherPrefix(cgroups?.procsFiles() ?? [], { bash: tools.bash, lastFd }),
      ...limiter,
      ...(netns === null ? [] : [tools.ip, 'netns', 'exec', netns]),
      ...setprivArgs(hostUid, tools),
      ...bwrapArgs(runDir, { unshareNet: netns === null, bwrap: tools.bwrap }),
      '--',
      ...command,
    ];
  }

  async function run(
    command: readonly string[],
    execOptions: ExecOptions,
    runOptions: { resultFd: boolean; hardTimeoutMs: number },
  ): Promise<{ launched: LaunchResult; limitsHit: LimitName[]; afterMs: number }> {
    if (destroyed) throw new PkghuntError('INTERNAL', `Cannot run in sandbox ${id}: it was destroyed`);
    const before = await counters();
    const argv = execOptions.tracer.wrap(launcherArgv(command, execOptions.netns), {
      traceFile: execOptions.traceFile,
    });
    // The package may fill the disk and free it again before it exits (pip removes its build
    // dirs): watch the tmpfs while the phase runs, not only at its end.
    const disk = watchDisk();
    const launched = await launch(argv, {
      timeoutMs: runOptions.hardTimeoutMs,
      outputLimitBytes: Math.floor(limits.output_kb * 1024),
      killAll,
      resultFd: runOptions.resultFd,
      env,
      onOutput: execOptions.onOutput,
    });
    disk.stop();
    const diskFull = disk.take();
    const afterStarted = performance.now();
    // Nothing of this run may outlive it: the next phase starts from a clean process table.
    await killAll();
    const after = await counters();
    const limitsHit = await limitsOf(launched, launched.outputExceeded, before, after, diskFull);
    return { launched, limitsHit, afterMs: performance.now() - afterStarted };
  }

  async function counters(): Promise<{ oomKills: number; pidsMaxEvents: number }> {
    return (await cgroups?.counters()) ?? { oomKills: 0, pidsMaxEvents: 0 };
  }

  /** Which limits a part of a launch ran into, from its counters before and after it. */
  async function limitsOf(
    part: { timedOut: boolean; stdoutTail: string; stderrTail: string },
    outputExceeded: boolean,
    before: { oomKills: number; pidsMaxEvents: number },
    after: { oomKills: number; pidsMaxEvents: number },
    diskFull: boolean,
  ): Promise<LimitName[]> {
    const limitsHit: LimitName[] = [];
    if (part.timedOut) limitsHit.push('timeout');
    if (after.oomKills > before.oomKills) limitsHit.push('memory');
    if (after.pidsMaxEvents > before.pidsMaxEvents) limitsHit.push('pids');
    // Best effort: a fill that is freed again within one poll is still seen through the error
    // it caused, when a process printed it.
    const enospc = /No space left on device|ENOSPC|\[Errno 28\]/.test(
      `${part.stdoutTail}\n${part.stderrTail}`,
    );
    if (diskFull || enospc || (await _diskNearlyFull(runDir))) limitsHit.push('disk');
    if (outputExceeded) limitsHit.push('output');
    return limitsHit;
  }

  /** Polls the tmpfs while a phase runs (see run()); `take` returns whether it was nearly full since the last take. */
  function watchDisk(): { take: () => boolean; stop: () => void } {
    let full = false;
    const timer = setInterval(() => {
      void _diskNearlyFull(runDir).then((nearly) => {
        full ||= nearly;
      });
    }, DISK_POLL_MS);
    return {
      take() {
        const was = full;
        full = false;
        return was;
      },
      stop: () => clearInterval(timer),
    };
  }

  function phaseCommand(phase: PhaseName, phaseOptions: PhaseOptions, extra: readonly string[]): string[] {
    const distribution = phaseOptions.distributionName ?? _derivedDistribution(phaseOptions.target);
    return [
      SANDBOX_LAYOUT.runner,
      phase,
      '--target',
      phaseOptions.target,
      '--deadline-ms',
      String(Math.max(1000, phaseOptions.timeoutMs)),
      ...(phaseOptions.noIndex === true ? ['--no-index'] : ['--index-url', phaseOptions.indexUrl]),
      ...(distribution === undefined ? [] : ['--distribution', distribution]),
      ...(phaseOptions.ecosystem === 'npm' ? ['--ecosystem', 'npm'] : []),
      ...extra,
    ];
  }

  /** A PhaseRun from a launch (or one part of it) and the runner's result. */
  function phaseRun(
    phase: PhaseName,
    part: LaunchPart & { exitCode: number | null; signal: string | null; spawnError: string | null },
    limitsHit: LimitName[],
    parsed: ReturnType<typeof parseRunnerResult>,
    afterMs: number,
    ecosystem: 'pypi' | 'npm',
  ): PhaseRun {
    const result = parsed.ok ? parsed.value : null;
    // The runner's own deadline ended it: a timeout even when the host's timer did not fire.
    const hit: LimitName[] =
      result?.timed_out === true && !limitsHit.includes('timeout') ? ['timeout', ...limitsHit] : limitsHit;
    return {
      exitCode: part.exitCode,
      signal: part.signal,
      durationMs: part.durationMs,
      startedAt: part.startedAt,
      stdoutTail: part.stdoutTail,
      stderrTail: part.stderrTail,
      outputBytes: part.outputBytes,
      limitsHit: hit,
      survivors: result?.survivors ?? [],
      modules: result?.modules ?? [],
      installed: result?.installed ?? [],
      distribution:
        result?.distribution == null
          ? null
          : {
              name: result.distribution.name,
              version: result.distribution.version,
              topLevel: result.distribution.top_level,
            },
      timings: _phaseTimings(part, result?.timings, afterMs),
      ..._phaseStatus(phase, part.spawnError, hit, parsed, ecosystem),
    };
  }

  return {
    id,
    hostUid,
    runDir,
    enforcement: { ...caps.enforcement },
    async exec(argv, execOptions) {
      const { launched, limitsHit } = await run(argv, execOptions, {
        resultFd: false,
        hardTimeoutMs: execOptions.timeoutMs,
      });
      return {
        exitCode: launched.exitCode,
        signal: launched.signal,
        durationMs: launched.durationMs,
        startedAt: launched.startedAt,
        stdoutTail: launched.stdoutTail,
        stderrTail: launched.stderrTail,
        outputBytes: launched.outputBytes,
        limitsHit,
        spawnError: launched.spawnError,
      };
    },
    async runPhase(phase, phaseOptions) {
      const command = phaseCommand(
        phase,
        phaseOptions,
        phase === 'import' && planWritten ? ['--plan', `${SANDBOX_LAYOUT.pkghuntDir}/${IMPORT_PLAN}`] : [],
      );
      const { launched, limitsHit, afterMs } = await run(command, phaseOptions, {
        resultFd: true,
        hardTimeoutMs: phaseOptions.timeoutMs + RUNNER_GRACE_MS,
      });
      const parsed = parseRunnerResult(launched.result);
      if (phase === 'install')
        planWritten = await _writeImportPlan(runDir, parsed.ok ? parsed.value.import_plan : undefined);
      return phaseRun(phase, launched, limitsHit, parsed, afterMs, phaseOptions.ecosystem ?? 'pypi');
    },
    async runInstallThenImport(options) {
      if (destroyed) throw new PkghuntError('INTERNAL', `Cannot run in sandbox ${id}: it was destroyed`);
      const ecosystem = options.ecosystem ?? 'pypi';
      const command = phaseCommand('install', options, [
        '--then-import',
        '--import-deadline-ms',
        String(Math.max(1000, options.importTimeoutMs)),
      ]);
      const argv = options.tracer.wrap(launcherArgv(command, options.netns, 6), {
        traceFile: options.traceFile,
      });
      const before = await counters();
      let between: { oomKills: number; pidsMaxEvents: number } | null = null;
      let installLimits: LimitName[] | null = null;
      const disk = watchDisk();
      const launched = await launchTwoParts(argv, {
        timeoutMs: options.timeoutMs + RUNNER_GRACE_MS,
        secondTimeoutMs: options.importTimeoutMs + RUNNER_GRACE_MS,
        outputLimitBytes: Math.floor(limits.output_kb * 1024),
        killAll,
        env,
        onOutput: (part, stream, text) =>
          options.onPhaseOutput?.(part === 0 ? 'install' : 'import', stream, text),
        async onBoundary(first) {
          // The install phase's processes are gone (the runner killed what was left): what the
          // counters and the disk say now is the install phase's.
          between = await counters();
          installLimits = await limitsOf(first, false, before, between, disk.take());
          const parsed = parseRunnerResult(first.result);
          if (!parsed.ok || parsed.value.then_import !== true) return false;
          const install = phaseRun(
            'install',
            { ...first, exitCode: parsed.value.exit_code, signal: null, spawnError: null },
            installLimits,
            parsed,
            0,
            ecosystem,
          );
          return install.status === 'completed' && (await options.onInstallEnd(install));
        },
      });
      disk.stop();
      const afterStarted = performance.now();
      await killAll();
      const after = await counters();
      const afterMs = performance.now() - afterStarted;
      const firstParsed = parseRunnerResult(launched.first.result);
      const { second } = launched;
      if (second === null || between === null || installLimits === null) {
        // No import phase: the launch was the install phase alone (as runPhase('install') would be);
        // its limits were read at the boundary when there was one (the disk flag was taken there).
        const limitsHit =
          installLimits ??
          (await limitsOf(launched.first, launched.outputExceeded, before, after, disk.take()));
        const code = launched.exitCode ?? null;
        return {
          install: phaseRun(
            'install',
            { ...launched.first, exitCode: code, signal: launched.signal, spawnError: launched.spawnError },
            limitsHit,
            firstParsed,
            afterMs,
            ecosystem,
          ),
          import: null,
        };
      }
      return {
        install: phaseRun(
          'install',
          {
            ...launched.first,
            exitCode: firstParsed.ok ? firstParsed.value.exit_code : null,
            signal: null,
            spawnError: null,
          },
          installLimits,
          firstParsed,
          0,
          ecosystem,
        ),
        import: phaseRun(
          'import',
          {
            ...second,
            exitCode: launched.exitCode,
            signal: launched.signal,
            spawnError: launched.spawnError,
          },
          await limitsOf(second, launched.outputExceeded, between, after, disk.take()),
          parseRunnerResult(second.result),
          afterMs,
          ecosystem,
        ),
      };
    },
    destroy,
  };
}

const IMPORT_PLAN = 'import-plan.json';

/**
 * Puts the install phase's import plan where the import phase's runner reads it: the run dir's
 * `pkghunt` part, root-owned and bound read-only at /pkghunt, so nothing in the sandbox can change
 * it. Written only after the install phase's processes are gone; false when there is none.
 */
async function _writeImportPlan(runDir: string, raw: unknown): Promise<boolean> {
  const target = join(runDir, RUN_DIR_PARTS.pkghunt, IMPORT_PLAN);
  await unlink(target).catch(() => undefined);
  const plan = ImportPlan.safeParse(raw);
  if (!plan.success) return false;
  // Without it the import phase reads the venv itself, as it always could.
  return writeFile(target, JSON.stringify(plan.data), { mode: 0o644 }).then(
    () => true,
    () => false,
  );
}

/** Splits a phase's wall time with the runner's own clock (same host clock: epoch seconds). */
function _phaseTimings(
  launched: { startedAt: number; durationMs: number },
  runner: Record<string, number> | undefined,
  afterMs: number,
): Record<string, number> {
  const timings: Record<string, number> = {};
  const { started, ended, ...steps } = runner ?? {};
  if (started !== undefined && ended !== undefined) {
    timings.launcher = Math.max(0, started * 1000 - launched.startedAt * 1000);
    Object.assign(timings, steps);
    timings.exit = Math.max(0, launched.startedAt * 1000 + launched.durationMs - ended * 1000);
  } else {
    timings.launch = launched.durationMs;
  }
  timings.after = afterMs;
  return timings;
}

function _phaseStatus(
  phase: PhaseName,
  spawnError: string | null,
  limitsHit: readonly LimitName[],
  parsed: ReturnType<typeof parseRunnerResult>,
  ecosystem: 'pypi' | 'npm',
): { status: PhaseStatus; reason: string | null } {
  if (spawnError !== null) {
    return { status: 'sandbox_error', reason: `Cannot start the sandbox: ${spawnError}` };
  }
  if (limitsHit.includes('timeout'))
    return { status: 'timeout', reason: `the ${phase} phase ran past its time limit` };
  if (limitsHit.includes('output'))
    return { status: 'failed', reason: 'the output limit was exceeded; the phase was killed' };
  if (limitsHit.includes('memory'))
    return { status: 'failed', reason: 'a process was killed by the memory limit' };
  if (!parsed.ok) {
    if (limitsHit.length > 0)
      return { status: 'failed', reason: `${parsed.reason} (limits hit: ${limitsHit.join(', ')})` };
    return { status: 'sandbox_error', reason: parsed.reason };
  }
  const result = parsed.value;
  if (result.error !== null) return { status: 'failed', reason: result.error };
  if (result.exit_code === 0) return { status: 'completed', reason: null };
  // Dependencies' staged imports do not fail the phase: name the package's own failed module.
  const failedImport = result.modules.find((m) => m.status !== 'ok' && m.distribution === undefined);
  if (failedImport !== undefined) {
    return {
      status: 'failed',
      reason: `import of ${failedImport.module} failed: ${failedImport.error ?? failedImport.status}`,
    };
  }
  return {
    status: 'failed',
    reason: `${phase === 'install' ? (ecosystem === 'npm' ? 'npm' : 'pip') : 'the runner'} exited with code ${result.exit_code}`,
  };
}

/** A fresh 16-hex-digit canary token. */
export function newCanaryToken(): string {
  return randomBytes(8).toString('hex');
}
