import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { inspectArchive } from '../adapters/archive/inspect-archive.ts';
import { checkNetworkCapabilities } from '../adapters/netns/check-network-capabilities.ts';
import {
  type CaptureEvent,
  createNetworkSandbox,
  type NetworkSandbox,
} from '../adapters/netns/network-sandbox.ts';
import { blobPath } from '../adapters/registry/file-cache.ts';
import { type IndexProxy, startIndexProxy } from '../adapters/registry/index-proxy.ts';
import { resolveIndexUrl } from '../adapters/registry/index-url.ts';
import { startNpmProxy } from '../adapters/registry/npm-proxy.ts';
import { checkNpm, HOST_NODE, resolveNpmRegistry } from '../adapters/registry/npm-registry.ts';
import { fetchProjectMetadata, getProjectPage, latestRelease } from '../adapters/registry/simple-index.ts';
import { checkSandboxCapabilities, createSandbox, type Sandbox } from '../adapters/sandbox/sandbox.ts';
import { checkTracer, selectTracer } from '../adapters/tracer/create-tracer.ts';
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
import { type Reporter, silentReporter } from '../reporter/reporter.ts';
import { assemblePhase } from './assemble-phase.ts';
import { detectRecord } from './detect-record.ts';
import { npmArtifact, npmDependencies, resolveNpmTarget } from './resolve-npm-target.ts';

export const TOOL_VERSION = '0.1.0';

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
  /** Called with each phase's raw trace file before it is deleted (e.g. to store it). */
  onTraceFile?: (phase: PhaseName, path: string) => Promise<void>;
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
 * wait until its events stop arriving (bounded) before splitting them by phase.
 */
async function settledEvents(network: NetworkSandbox): Promise<CaptureEvent[]> {
  let count = -1;
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const now = network.events().length;
    if (now === count) break;
    count = now;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return network.events();
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
  const target = npm
    ? await resolveNpmTarget(requested, indexUrl, { reporter, runId })
    : await resolveTarget(requested, indexUrl, reporter, runId);
  const token = randomBytes(8).toString('hex');
  const canaries = makeCanaries(token);
  const tracer: Tracer = await selectTracer(options.tracer ?? 'strace', {
    onWarning: (message) => reporter.report({ type: 'warning', message, code: 'CAPABILITY_MISSING' }),
  });

  const workDir = await mkdtemp(join(tmpdir(), 'pkghunt-analyze-'));
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
  let removeAbortListener = (): void => {};
  try {
    throwIfAborted(options.signal, requested);
    await checkCapabilities(tracer);
    reporter.report({ type: 'step', runId, step: 'starting index proxy and network sandbox' });
    const proxyOptions = {
      socketPath: join(socketDir, `${runId}.sock`),
      cacheDir: join(config.cacheDir, 'artifacts'),
    };
    proxy = npm
      ? await startNpmProxy({ registry: indexUrl, ...proxyOptions })
      : await startIndexProxy({ indexUrl, ...proxyOptions });
    network = await createNetworkSandbox({ id: runId, indexSocketPath: join(socketDir, `${runId}.sock`) });
    sandbox = await createSandbox({
      id: runId,
      limits,
      canaryToken: token,
      uidBase: config.uidBase,
      stateDir: config.stateDir,
      ...(target.localPath ? { localArtifact: target.localPath } : {}),
    });
    const pipIndexUrl = `http://127.0.0.1:${network.indexPort}/${npm ? '' : 'simple/'}`;
    const stop = (): void => {
      destroying ??= sandbox?.destroy() ?? null;
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    removeAbortListener = () => options.signal?.removeEventListener('abort', stop);
    for (const phase of phases) {
      throwIfAborted(options.signal, requested);
      if (phase === 'import' && recordPhases.install && recordPhases.install.status !== 'completed') {
        recordPhases.import = phaseError('failed', 'skipped: the install phase did not complete');
        continue;
      }
      proxy.setPhase(phase);
      const traceFile = join(workDir, `${phase}.strace`);
      reporter.report({ type: 'phase-start', runId, phase });
      const run = await sandbox.runPhase(phase, {
        netns: network.name,
        tracer,
        traceFile,
        timeoutMs: limits.timeout_s * 1000,
        indexUrl: pipIndexUrl,
        target: target.pipTarget,
        distributionName: target.name,
        ecosystem: target.ecosystem,
        onOutput: (stream, chunk) =>
          reporter.report({ type: 'phase-output', runId, phase, stream, text: chunk }),
      });
      if (phase === 'install' && run.installed.length > 0) installed = run.installed;
      const isLast = phase === phases[phases.length - 1];
      const events = isLast ? await network.close() : await settledEvents(network);
      const phaseEvents = events.slice(consumed);
      consumed = events.length;
      const indexPaths = proxy
        .requests()
        .filter((r) => r.phase === phase)
        .map((r) => r.path);
      // A trace that cannot be read says nothing about the package: the phase becomes a
      // sandbox_error in the record instead of failing the whole analysis.
      const assembled = await assemblePhase({
        run,
        traceLines: tracer === noTracer ? null : (tracer.readTrace?.(traceFile) ?? readLines(traceFile)),
        capture: phaseEvents,
        canaries,
        indexPort: network.indexPort,
        indexPaths,
        attribution: { phase, target: target.name, ecosystem: target.ecosystem },
      }).catch((error: unknown) =>
        phaseError(
          'sandbox_error',
          `Cannot read the trace of the ${phase} phase: ${toPkghuntError(error).message}`,
        ),
      );
      throwIfAborted(options.signal, requested);
      recordPhases[phase] = assembled;
      reporter.report({
        type: 'phase-end',
        runId,
        phase,
        status: assembled.status,
        durationMs: assembled.duration_ms,
      });
      if (options.onTraceFile && tracer !== noTracer) await options.onTraceFile(phase, traceFile);
      if (options.keepTraceDir && tracer !== noTracer) {
        await mkdir(options.keepTraceDir, { recursive: true });
        await copyFile(traceFile, join(options.keepTraceDir, `${phase}.strace`)).catch(() => {});
      }
    }
  } catch (error) {
    throw toPkghuntError(error, 'SANDBOX_SETUP_FAILED');
  } finally {
    removeAbortListener();
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
    await Promise.allSettled(closing);
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
  }

  // The package's own artifact among everything pip fetched (dependencies, build backends):
  // the file whose name and version are the target's.
  const artifact =
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
    null;
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
  const verdict = await detectRecord(parsed.data, {
    artifact: target.localPath
      ? { path: target.localPath, filename: basename(target.localPath) }
      : artifact
        ? { path: blobPath(join(config.cacheDir, 'artifacts'), artifact.sha256), filename: artifact.filename }
        : null,
    ecosystem: target.ecosystem,
    onWarning: (message) => reporter.report({ type: 'warning', message, code: 'ARCHIVE_UNREADABLE' }),
  });
  reporter.report({ type: 'analysis-end', runId, name: target.name, version: target.version, ok: true });
  return { ...parsed.data, verdict };
}
