import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { inspectArchive } from '../adapters/archive/inspect-archive.ts';
import { checkNetworkCapabilities } from '../adapters/netns/check-network-capabilities.ts';
import { createNetworkPool, type NetworkPool } from '../adapters/netns/network-pool.ts';
import type { CaptureEvent, NetworkSandbox } from '../adapters/netns/network-sandbox.ts';
import { blobPath } from '../adapters/registry/file-cache.ts';
import { type IndexProxy, startIndexProxy } from '../adapters/registry/index-proxy.ts';
import { resolveIndexUrl } from '../adapters/registry/index-url.ts';
import { startNpmProxy } from '../adapters/registry/npm-proxy.ts';
import { checkNpm, HOST_NODE, resolveNpmRegistry } from '../adapters/registry/npm-registry.ts';
import { fetchProjectMetadata, getProjectPage, latestRelease } from '../adapters/registry/simple-index.ts';
import { workDirPrefix } from '../adapters/sandbox/cleanup-stale-sandboxes.ts';
import {
  checkSandboxCapabilities,
  createSandbox,
  type PhaseRun,
  type Sandbox,
} from '../adapters/sandbox/sandbox.ts';
import { checkTracer, selectTracer } from '../adapters/tracer/create-tracer.ts';
import { writeImportPart, writeInstallPart } from '../adapters/tracer/split-trace-file.ts';
import { noTracer, type Tracer, type TracerChoice } from '../adapters/tracer/tracer.ts';
import type { Config } from '../config.ts';
import { listDependencies } from '../core/attribution/list-dependencies.ts';
import { makeCanaries } from '../core/canary/make-canaries.ts';
import { PkghuntError, toPkghuntError } from '../core/errors.ts';
import { isNpmSpec } from '../core/npm/npm-package-spec.ts';
import { parseDistFilename } from '../core/pypi/dist-filename.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import { parsePackageSpec } from '../core/pypi/package-spec.ts';
import { emptyPhase } from '../core/record/empty-phase.ts';
import {
  BehaviourRecord,
  type IndexRequest,
  type Limits,
  type Phase,
  type PhaseName,
  SCHEMA_VERSION,
} from '../core/record/schema.ts';
import { SANDBOX_LAYOUT } from '../core/sandbox/layout.ts';
import { PhaseTraceSplit } from '../core/trace/phase-trace-split.ts';
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import { TOOL_VERSION } from '../version.ts';
import { assemblePhase } from './assemble-phase.ts';
import { detectRecord, staticFindingsOfArtifact } from './detect-record.ts';
import { npmArtifact, npmDependencies, resolveNpmTarget } from './resolve-npm-target.ts';

export interface AnalyzeOptions {
  config: Config;
  indexUrl?: string;
  /** npm specs (`npm:...`): the registry URL or directory; default: npm's configured registry. */
  registry?: string;
  phases?: PhaseName[];
  /** Per-phase timeout in seconds; overrides config.limits.timeout_s. */
  timeoutS?: number;
  limits?: Partial<Limits>;
  keepTraceDir?: string;
  /** Default strace; `auto`: bpftrace where it runs, else strace (with a warning). */
  tracer?: TracerChoice;
  reporter?: Reporter;
  /** Aborting destroys the sandbox at once and makes analyze throw INTERRUPTED. */
  signal?: AbortSignal;
  /**
   * Called with each phase's raw trace file before it is deleted (e.g. to store it), and with
   * the lines a reduced stored trace keeps when `reduceTraces` is set (else null).
   */
  onTraceFile?: (phase: PhaseName, path: string, reduced: readonly string[] | null) => Promise<void>;
  /**
   * Reduce each trace (TraceReducer, the record's noise areas) while it is parsed for the record,
   * from the same parse, and hand the kept lines to onTraceFile: a hunt that stores reduced traces
   * then reads and parses each trace once instead of twice.
   */
  reduceTraces?: boolean;
  /**
   * Another analysis follows in this process (hunt's workers): its network namespace is made
   * while this one runs (see NetworkPool). Off for a single analysis.
   */
  prepareNext?: boolean;
}

export interface ResolvedTarget {
  ecosystem: 'pypi' | 'npm';
  name: string;
  version: string | null;
  source: 'index' | 'local';
  /** What pip installs inside the sandbox. */
  pipTarget: string;
  localPath: string | null;
  artifact: { filename: string; sha256: string; size: number } | null;
  metadata: Record<string, unknown> | null;
}

async function resolveTarget(
  requested: string,
  indexUrl: string,
  reporter: Reporter,
  runId: string,
): Promise<ResolvedTarget> {
  const spec = parsePackageSpec(requested);
  if (spec.kind === 'local') {
    reporter.report({ type: 'step', runId, step: 'inspecting local archive', detail: spec.path });
    const info = await inspectArchive(spec.path);
    return {
      ecosystem: 'pypi',
      name: normalizeName(info.name),
      version: info.version,
      source: 'local',
      pipTarget: `${SANDBOX_LAYOUT.artifactsDir}/${basename(spec.path)}`,
      localPath: spec.path,
      artifact: { filename: info.filename, sha256: info.sha256, size: info.size },
      metadata: null,
    };
  }
  reporter.report({ type: 'step', runId, step: 'resolving release', detail: spec.name });
  const page = await getProjectPage(indexUrl, spec.name);
  const release = latestRelease(page, spec.version ?? undefined);
  const metadata = await fetchProjectMetadata(indexUrl, page.name, release.version).catch(() => null);
  return {
    ecosystem: 'pypi',
    name: page.name,
    version: release.version,
    source: 'index',
    pipTarget: `${spec.normalized}==${release.version}`,
    localPath: null,
    artifact: null,
    metadata,
  };
}

/** Fails early, naming what is missing, instead of half-way through a run. */
async function checkCapabilities(tracer: Tracer): Promise<void> {
  await checkSandboxCapabilities();
  await checkNetworkCapabilities();
  await checkTracer(tracer);
}

/**
 * The sinkhole reports a connection when it closes; the phase's processes were just killed, so
 * wait until netsvc has recorded what reached it (bounded) before splitting events by phase.
 */
async function settledEvents(network: NetworkSandbox): Promise<CaptureEvent[]> {
  await network.settle();
  return network.events();
}

const pools = new Map<string, NetworkPool>();

/** The process's network sandboxes, one made ahead when analyses follow each other (see NetworkPool). */
function networkPool(socketDir: string): NetworkPool {
  let pool = pools.get(socketDir);
  if (pool === undefined) {
    pool = createNetworkPool({ socketDir });
    pools.set(socketDir, pool);
  }
  return pool;
}

function throwIfAborted(signal: AbortSignal | undefined, requested: string): void {
  if (signal?.aborted) {
    throw new PkghuntError('INTERRUPTED', `Cannot finish the analysis of ${requested}: interrupted`);
  }
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

async function* readLines(path: string): AsyncGenerator<string> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'latin1' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) yield line;
}

/** Times each stage of one analysis and reports it (`stage` events): where a job's time goes. */
function stageTimer(reporter: Reporter, runId: string) {
  return async function timed<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      reporter.report({ type: 'stage', runId, stage, durationMs: performance.now() - started });
    }
  };
}

/**
 * Assembles one phase from its run, trace and capture (a trace that cannot be read says nothing
 * about the package: the phase becomes a sandbox_error in the record instead of failing the whole
 * analysis), then hands the trace file on (stored by a hunt, copied by --keep-trace).
 */
async function readPhase(options: {
  phase: PhaseName;
  assemble: () => Promise<Phase>;
  traceFile: string | null;
  timed: ReturnType<typeof stageTimer>;
  reporter: Reporter;
  runId: string;
  onTraceFile?: AnalyzeOptions['onTraceFile'];
  keepTraceDir?: string;
  /** Filled by `assemble` with the reduced trace's lines (see AnalyzeOptions.reduceTraces), or null. */
  kept: string[] | null;
}): Promise<Phase> {
  const { phase, timed, traceFile, onTraceFile, keepTraceDir } = options;
  let kept = options.kept;
  const assembled = await timed(`${phase}:parse`, () =>
    options.assemble().catch((error: unknown) => {
      // A trace that could not be read whole has no complete reduction either: the file is stored.
      kept = null;
      return phaseError(
        'sandbox_error',
        `Cannot read the trace of the ${phase} phase: ${toPkghuntError(error).message}`,
      );
    }),
  );
  options.reporter.report({
    type: 'phase-end',
    runId: options.runId,
    phase,
    status: assembled.status,
    durationMs: assembled.duration_ms,
  });
  if (traceFile !== null && onTraceFile)
    await timed(`${phase}:trace-store`, () => onTraceFile(phase, traceFile, kept));
  if (traceFile !== null && keepTraceDir) {
    await mkdir(keepTraceDir, { recursive: true });
    await copyFile(traceFile, join(keepTraceDir, `${phase}.strace`)).catch(() => {});
  }
  return assembled;
}

/**
 * The package's own artifact among everything pip fetched (dependencies, build backends): the
 * file whose name and version are the target's.
 */
function ownArtifact(
  target: ResolvedTarget,
  proxy: IndexProxy | null,
): { filename: string; sha256: string; size: number } | null {
  const npm = target.ecosystem === 'npm';
  return (
    target.artifact ??
    (npm ? npmArtifact(proxy?.servedFiles() ?? [], target) : undefined) ??
    proxy?.servedFiles().find((f) => {
      const dist = parseDistFilename(f.filename, target.name);
      return (
        dist !== null &&
        normalizeName(dist.name) === normalizeName(target.name) &&
        (target.version === null || dist.version === target.version)
      );
    }) ??
    null
  );
}

/** Where the static scan reads the artifact: the local file, or the proxy's cached copy. */
function scannedArtifact(
  target: ResolvedTarget,
  artifact: { filename: string; sha256: string } | null,
  config: Config,
): { path: string; filename: string } | null {
  if (target.localPath) return { path: target.localPath, filename: basename(target.localPath) };
  if (artifact === null) return null;
  return { path: blobPath(join(config.cacheDir, 'artifacts'), artifact.sha256), filename: artifact.filename };
}

function phaseError(status: Phase['status'], reason: string): Phase {
  return emptyPhase({ status, reason });
}

/**
 * Analyses one package: resolves it, installs it (and imports it) in a fresh sandbox with no
 * network, under the tracer, with the sinkhole and the index proxy, and returns the record.
 * Expected failures of the package itself (build errors, timeouts, limits) end in the record;
 * failures to analyse at all (bad input, missing capability, index down) throw PkghuntError.
 */
export async function analyze(requested: string, options: AnalyzeOptions): Promise<BehaviourRecord> {
  const reporter = options.reporter ?? silentReporter;
  const config = options.config;
  const phases = options.phases ?? ['install', 'import'];
  const limits: Limits = { ...config.limits, ...options.limits };
  if (options.timeoutS !== undefined) limits.timeout_s = options.timeoutS;
  const runId = newRunId();
  const startedAt = new Date();
  const timed = stageTimer(reporter, runId);
  reporter.report({ type: 'analysis-start', runId, requested });

  const npm = isNpmSpec(requested);
  if (npm) await checkNpm();
  const indexUrl = npm
    ? await resolveNpmRegistry({
        ...(options.registry !== undefined ? { cliValue: options.registry } : {}),
        env: process.env,
      })
    : await resolveIndexUrl({
        ...(options.indexUrl !== undefined ? { cliValue: options.indexUrl } : {}),
        env: process.env,
      });
  const target = await timed('resolve', () =>
    npm
      ? resolveNpmTarget(requested, indexUrl, { reporter, runId })
      : resolveTarget(requested, indexUrl, reporter, runId),
  );
  const token = randomBytes(8).toString('hex');
  const canaries = makeCanaries(token);
  const tracer: Tracer = await timed('tracer-select', () =>
    selectTracer(options.tracer ?? 'strace', {
      onWarning: (message) => reporter.report({ type: 'warning', message, code: 'CAPABILITY_MISSING' }),
    }),
  );

  // Named by this process's pid: cleanupStaleWorkDirs removes it if the process is SIGKILLed.
  const workDir = await mkdtemp(join(tmpdir(), workDirPrefix()));
  const socketDir = join(config.stateDir, 'sockets');
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  let proxy: IndexProxy | null = null;
  let network: NetworkSandbox | null = null;
  let sandbox: Sandbox | null = null;
  const recordPhases: { install?: Phase; import?: Phase } = {};
  let captured: CaptureEvent[] = [];
  let requests: IndexRequest[] = [];
  let consumed = 0;
  /** The venv's distributions after the install phase, for the record's `dependencies`. */
  let installed: { name: string; version: string }[] | null = null;
  let destroying: Promise<void> | null = null;
  /** The static scan, started as soon as the artifact is known (detectRecord reuses it). */
  let early: { path: string; scan: ReturnType<typeof staticFindingsOfArtifact> } | null = null;
  /** Each phase's trace reading and storing (see readPhase), awaited before the work dir goes. */
  const reading: Promise<Phase>[] = [];
  let removeAbortListener = (): void => {};
  try {
    throwIfAborted(options.signal, requested);
    await timed('capabilities', () => checkCapabilities(tracer));
    reporter.report({ type: 'step', runId, step: 'starting index proxy and network sandbox' });
    // The network sandbox first: its netsvc forwards pip's index traffic to the proxy's socket path.
    const lease = await timed('netns-create', () =>
      networkPool(socketDir).take({ prepareNext: options.prepareNext === true }),
    );
    network = lease.network;
    const proxyOptions = {
      socketPath: lease.indexSocketPath,
      cacheDir: join(config.cacheDir, 'artifacts'),
    };
    proxy = await timed('proxy-start', () =>
      npm
        ? startNpmProxy({ registry: indexUrl, ...proxyOptions })
        : startIndexProxy({ indexUrl, ...proxyOptions }),
    );
    sandbox = await timed('sandbox-create', () =>
      createSandbox({
        id: runId,
        limits,
        canaryToken: token,
        uidBase: config.uidBase,
        stateDir: config.stateDir,
        ...(target.localPath ? { localArtifact: target.localPath } : {}),
      }),
    );
    const pipIndexUrl = `http://127.0.0.1:${network.indexPort}/${npm ? '' : 'simple/'}`;
    const stop = (): void => {
      destroying ??= sandbox?.destroy() ?? null;
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    removeAbortListener = () => options.signal?.removeEventListener('abort', stop);
    const active = sandbox;
    const net = network;
    const activeProxy = proxy;
    /** The install phase's run status: the import phase runs only after a completed one. */
    let installRun: Phase['status'] | null = null;
    let importRan = false;
    const phaseOptions = {
      netns: net.name,
      tracer,
      timeoutMs: limits.timeout_s * 1000,
      indexUrl: pipIndexUrl,
      target: target.pipTarget,
      distributionName: target.name,
      ecosystem: target.ecosystem,
    };
    /**
     * Everything after a phase's run: its profile, what it says of the venv and the artifact, its
     * share of the capture and of the index requests, then the reading of its trace (returned: it
     * goes on while the next phase runs).
     */
    const afterRun = async (
      phase: PhaseName,
      run: PhaseRun,
      traceFile: string,
      isLast: boolean,
      /** Resolves when `traceFile` is written (a one-launch trace's install part is copied meanwhile). */
      ready: Promise<void> = Promise.resolve(),
    ): Promise<{ done: Promise<Phase> }> => {
      for (const [stage, ms] of Object.entries(run.timings)) {
        reporter.report({ type: 'stage', runId, stage: `${phase}:${stage}`, durationMs: ms });
      }
      if (phase === 'install') installRun = run.status;
      if (phase === 'import') importRan = true;
      if (phase === 'install' && run.installed.length > 0) installed = run.installed;
      // The artifact is known once pip fetched it: its static scan runs while the rest goes on.
      if (early === null) {
        const found = scannedArtifact(target, ownArtifact(target, activeProxy), config);
        if (found !== null) {
          const scan = staticFindingsOfArtifact(found, target.ecosystem);
          scan.catch(() => undefined);
          early = { path: found.path, scan };
        }
      }
      // Nothing runs in the sandbox any more: tear it down while the last phase is read.
      if (isLast) destroying ??= active.destroy();
      // The trace file is whole (bpftrace: stop markers) before another launch opens.
      const settle = tracer.settle;
      if (settle) await timed(`${phase}:trace-settle`, () => settle(traceFile));
      const events = await timed(`${phase}:capture`, () => (isLast ? net.close() : settledEvents(net)));
      const phaseEvents = events.slice(consumed);
      consumed = events.length;
      const indexPaths = activeProxy
        .requests()
        .filter((r) => r.phase === phase)
        .map((r) => r.path);
      // Reading and storing the trace works on files only: it goes on while the next phase runs.
      const kept = options.reduceTraces === true && options.onTraceFile && tracer !== noTracer ? [] : null;
      const done = readPhase({
        phase,
        kept,
        assemble: async () => {
          await ready;
          return assemblePhase({
            ...(kept === null ? {} : { keptLines: kept }),
            run,
            traceLines: tracer === noTracer ? null : (tracer.readTrace?.(traceFile) ?? readLines(traceFile)),
            capture: phaseEvents,
            canaries,
            indexPort: net.indexPort,
            indexPaths,
            attribution: { phase, target: target.name, ecosystem: target.ecosystem },
          });
        },
        traceFile: tracer === noTracer ? null : traceFile,
        timed,
        reporter,
        runId,
        ...(options.onTraceFile ? { onTraceFile: options.onTraceFile } : {}),
        ...(options.keepTraceDir ? { keepTraceDir: options.keepTraceDir } : {}),
      });
      reading.push(done);
      // Wrapped: an async function returning a promise would wait for it.
      return { done };
    };
    let separate: PhaseName[] = phases;
    // Both phases in one launch when the tracer writes strace lines itself (strace, or none): one
    // runner start and one launcher chain fewer per package. bpftrace's trace is only whole after
    // its stop markers, at the end of a launch: it keeps a launch per phase.
    const oneLaunch =
      phases.length === 2 &&
      phases[0] === 'install' &&
      phases[1] === 'import' &&
      tracer.readTrace === undefined &&
      tracer.settle === undefined;
    if (oneLaunch) {
      const launchTrace = join(workDir, 'launch.strace');
      const installTrace = join(workDir, 'install.strace');
      const importTrace = join(workDir, 'import.strace');
      const newSplit = () =>
        new PhaseTraceSplit({ runnerPath: SANDBOX_LAYOUT.runner, phaseMark: SANDBOX_LAYOUT.phaseMark });
      let split = newSplit();
      let markEnd: number | null = null;
      let installReading: Promise<Phase> | null = null;
      let launchEnded: () => void = () => {};
      const ended = new Promise<void>((resolve) => {
        launchEnded = resolve;
      });
      /**
       * The install part of the trace, copied out while the import phase runs. strace writes each
       * line as the call returns, so the mark is normally in the file already; if it is not (yet),
       * the copy is made again from the whole file once the launch is over.
       */
      const copyInstallPart = async (): Promise<void> => {
        markEnd = await writeInstallPart(launchTrace, installTrace, split);
        if (markEnd !== null) return;
        await ended;
        split = newSplit();
        markEnd = await writeInstallPart(launchTrace, installTrace, split);
      };
      let copied: Promise<void> = Promise.resolve();
      activeProxy.setPhase('install');
      reporter.report({ type: 'phase-start', runId, phase: 'install' });
      const launchStarted = performance.now();
      const runs = await active
        .runInstallThenImport({
          ...phaseOptions,
          traceFile: launchTrace,
          importTimeoutMs: phaseOptions.timeoutMs,
          onPhaseOutput: (phase, stream, chunk) =>
            reporter.report({ type: 'phase-output', runId, phase, stream, text: chunk }),
          onInstallEnd: async (install) => {
            reporter.report({
              type: 'stage',
              runId,
              stage: 'install:run',
              durationMs: performance.now() - launchStarted,
            });
            if (tracer !== noTracer) {
              copied = timed('install:trace-split', copyInstallPart);
              copied.catch(() => undefined);
            }
            const { done } = await afterRun('install', install, installTrace, false, copied);
            done.catch(() => undefined);
            installReading = done;
            activeProxy.setPhase('import');
            reporter.report({ type: 'phase-start', runId, phase: 'import' });
            return true;
          },
        })
        .finally(launchEnded);
      throwIfAborted(options.signal, requested);
      // The install phase's output tails as they ended (the boundary may have come before the last chunks).
      const whole = (phase: Phase): Phase => ({
        ...phase,
        stdout_tail: runs.install.stdoutTail,
        stderr_tail: runs.install.stderrTail,
      });
      const reading = installReading as Promise<Phase> | null;
      if (reading !== null && runs.import !== null) {
        reporter.report({ type: 'stage', runId, stage: 'import:run', durationMs: runs.import.durationMs });
        await copied.catch(() => undefined);
        const offset = markEnd as number | null;
        if (tracer !== noTracer && offset !== null) {
          await timed('import:trace-split', () => writeImportPart(launchTrace, offset, importTrace, split));
        }
        if (tracer !== noTracer && offset === null) {
          // strace always writes the runner's mark: without it the trace cannot be told apart.
          recordPhases.import = phaseError('sandbox_error', 'the trace has no mark between the phases');
          destroying ??= active.destroy();
        } else {
          const { done } = await afterRun('import', runs.import, importTrace, true);
          recordPhases.import = await done;
        }
        recordPhases.install = whole(await reading);
        separate = [];
      } else if (reading !== null) {
        // Told to go on, the runner ended before the import phase started.
        recordPhases.install = whole(await reading);
        recordPhases.import = phaseError('sandbox_error', 'the runner ended before the import phase started');
        separate = [];
      } else {
        // The launch was the install phase alone: it did not complete.
        reporter.report({ type: 'stage', runId, stage: 'install:run', durationMs: runs.install.durationMs });
        const { done } = await afterRun('install', runs.install, launchTrace, true);
        recordPhases.install = await done;
        separate = [];
        recordPhases.import = phaseError('failed', 'skipped: the install phase did not complete');
      }
    }
    for (const phase of separate) {
      throwIfAborted(options.signal, requested);
      if (phase === 'import' && installRun !== null && installRun !== 'completed') {
        recordPhases.import = phaseError('failed', 'skipped: the install phase did not complete');
        continue;
      }
      activeProxy.setPhase(phase);
      const traceFile = join(workDir, `${phase}.strace`);
      reporter.report({ type: 'phase-start', runId, phase });
      const run = await timed(`${phase}:run`, () =>
        active.runPhase(phase, {
          ...phaseOptions,
          traceFile,
          onOutput: (stream, chunk) =>
            reporter.report({ type: 'phase-output', runId, phase, stream, text: chunk }),
        }),
      );
      const isLast = phase === separate[separate.length - 1];
      const { done } = await afterRun(phase, run, traceFile, isLast);
      if (isLast || run.status !== 'completed') recordPhases[phase] = await done;
      else done.then((p) => (recordPhases[phase] = p)).catch(() => undefined);
      throwIfAborted(options.signal, requested);
    }
    await Promise.all(reading);
    // The import phase started on the install run's status; if its trace then could not be read
    // (sandbox_error), the record is what it was when the import phase waited for that: skipped.
    if (importRan && recordPhases.install !== undefined && recordPhases.install.status !== 'completed') {
      recordPhases.import = phaseError('failed', 'skipped: the install phase did not complete');
    }
  } catch (error) {
    throw toPkghuntError(error, 'SANDBOX_SETUP_FAILED');
  } finally {
    removeAbortListener();
    const teardownStarted = performance.now();
    const closing: Promise<unknown>[] = [];
    if (destroying) closing.push(destroying);
    if (sandbox) closing.push(sandbox.destroy());
    if (network) {
      closing.push(
        network.close().then((events) => {
          captured = events;
        }),
      );
    }
    await Promise.allSettled([...closing, ...reading]);
    if (proxy) {
      requests = proxy.requests();
      await proxy.close().catch(() => {});
    }
    if (options.keepTraceDir) {
      await mkdir(options.keepTraceDir, { recursive: true });
      await writeFile(
        join(options.keepTraceDir, 'capture.ndjson'),
        captured.map((e) => JSON.stringify(e)).join('\n'),
      );
      await writeFile(join(options.keepTraceDir, 'index-requests.json'), JSON.stringify(requests, null, 2));
    }
    await rm(workDir, { recursive: true, force: true });
    reporter.report({
      type: 'stage',
      runId,
      stage: 'teardown',
      durationMs: performance.now() - teardownStarted,
    });
  }

  // The package's own artifact among everything pip fetched (dependencies, build backends):
  // the file whose name and version are the target's.
  const artifact = ownArtifact(target, proxy);
  const record = {
    schema_version: SCHEMA_VERSION,
    tool: { name: 'pkghunt' as const, version: TOOL_VERSION },
    run_id: runId,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    package: {
      ecosystem: target.ecosystem,
      name: target.name,
      version: target.version,
      requested,
      source: target.source,
      artifact: artifact
        ? { filename: artifact.filename, sha256: artifact.sha256, size: artifact.size }
        : null,
      metadata: target.metadata,
    },
    sandbox: {
      tracer: tracer.name,
      ...(tracer.lostEvents ? { tracer_lost_events: tracer.lostEvents() } : {}),
      limits,
      enforcement: sandbox?.enforcement ?? {},
      host_uid: sandbox?.hostUid ?? -1,
      python: SANDBOX_LAYOUT.python,
      ...(npm ? { node: HOST_NODE } : {}),
      canary_token: token,
    },
    phases: recordPhases,
    index_requests: requests,
    ...(installed && npm
      ? { dependencies: npmDependencies(target.name, installed, proxy?.servedFiles() ?? []) }
      : {}),
    ...(installed && !npm
      ? {
          dependencies: listDependencies({
            target: target.name,
            installed,
            fetched: proxy?.servedFiles().map((f) => f.filename) ?? [],
          }),
        }
      : {}),
  };
  const parsed = BehaviourRecord.safeParse(record);
  if (!parsed.success) {
    throw new PkghuntError(
      'RECORD_INVALID',
      `Cannot build the record for ${requested}: ${parsed.error.message}`,
    );
  }
  const scanned = scannedArtifact(target, artifact, config);
  const verdict = await timed('detect', () =>
    detectRecord(parsed.data, {
      artifact: scanned,
      ...(scanned !== null && early?.path === scanned.path ? { staticScan: early.scan } : {}),
      ecosystem: target.ecosystem,
      onWarning: (message) => reporter.report({ type: 'warning', message, code: 'ARCHIVE_UNREADABLE' }),
    }),
  );
  reporter.report({ type: 'analysis-end', runId, name: target.name, version: target.version, ok: true });
  return { ...parsed.data, verdict };
}
