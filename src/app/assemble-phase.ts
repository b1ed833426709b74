import type { CaptureEvent } from '../adapters/netns/network-sandbox.ts';
import type { PhaseRun } from '../adapters/sandbox/sandbox.ts';
import { attributeNpmProcesses } from '../core/attribution/attribute-npm-processes.ts';
import { attributePhase, uniqueAttributions } from '../core/attribution/attribute-phase.ts';
import { attributeProcesses } from '../core/attribution/attribute-processes.ts';
import { isNpmOwnFile } from '../core/behaviour/npm-own.ts';
import { findCanaryHits } from '../core/canary/find-canary-hits.ts';
import type { CanarySet } from '../core/canary/make-canaries.ts';
import { toConnection } from '../core/net/to-connection.ts';
import { toDnsQuery } from '../core/net/to-dns-query.ts';
import { normalizeName } from '../core/pypi/normalize-name.ts';
import type {
  Attribution,
  CanaryHit,
  Connection,
  Phase,
  PhaseName,
  Survivor,
} from '../core/record/schema.ts';
import { SANDBOX_LAYOUT } from '../core/sandbox/layout.ts';
import { TraceBehaviourBuilder } from '../core/trace/build-behaviour.ts';
import { parseStraceLine } from '../core/trace/parse-strace-line.ts';
import { TraceReducer } from '../core/trace/reduce-trace.ts';

/** Accesses that are expected and would drown the record: summarised, not listed (docs/RECORD.md). */
export const NOISE_AREAS = [
  { area: 'venv', prefixes: [`${SANDBOX_LAYOUT.venv}/`], kinds: 'all' as const },
  {
    area: 'pip-scratch',
    prefixes: ['/tmp/pip-', `${SANDBOX_LAYOUT.home}/.cache/pip/`],
    kinds: 'all' as const,
  },
  { area: 'null-device', prefixes: ['/dev/null'], kinds: 'all' as const },
  { area: 'pkghunt', prefixes: [`${SANDBOX_LAYOUT.pkghuntDir}/`], kinds: 'reads' as const },
  {
    area: 'system-read',
    prefixes: [
      '/usr/',
      '/lib/',
      '/lib64/',
      '/bin/',
      '/sbin/',
      '/etc/ld.so.cache',
      '/etc/localtime',
      '/etc/ssl/',
      '/etc/nsswitch.conf',
      '/etc/host.conf',
      '/etc/resolv.conf',
      '/etc/hosts',
      '/etc/gai.conf',
      '/etc/mime.types',
      '/proc/',
      '/sys/',
      '/dev/null',
      '/dev/urandom',
      '/dev/random',
      '/dev/tty',
      '/dev/pts/',
    ],
    kinds: 'reads' as const,
  },
];

/** Never summarised, even inside a noise area. */
export const SENSITIVE_PATHS = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/proc/self/environ',
  '/proc/1/',
  `${SANDBOX_LAYOUT.home}/`,
  `${SANDBOX_LAYOUT.workdir}/.git/`,
];

export interface AssembleOptions {
  run: PhaseRun;
  traceLines: AsyncIterable<string> | null;
  /** Capture events that belong to this phase. */
  capture: readonly CaptureEvent[];
  canaries: CanarySet;
  indexPort: number;
  indexPaths: readonly string[];
  /** Fills the `by` fields (who caused each behaviour); without it the phase has none. */
  attribution?: { phase: PhaseName; target: string; ecosystem?: 'pypi' | 'npm' };
  /**
   * When given, the trace's lines that a reduced stored trace keeps (TraceReducer with the record's
   * noise areas) are appended to it, from the same parse of each line as the behaviour.
   */
  keptLines?: string[];
}

function mergeSurvivors(
  fromRunner: readonly Survivor[],
  fromTrace: readonly { pid: number; argv: string[] }[],
): Survivor[] {
  const out = [...fromRunner];
  // The runner sees in-sandbox pids, the trace host pids: keep the runner's list and add trace-only
  // survivors only when the runner found none (it may have been killed by the package).
  if (out.length === 0) for (const s of fromTrace) out.push({ pid: s.pid, argv: s.argv, killed: true });
  return out;
}

/** Turns one sandboxed phase (its run result, trace and captured traffic) into the record's PHASE. */
export async function assemblePhase(options: AssembleOptions): Promise<Phase> {
  const { run } = options;
  const builder = new TraceBehaviourBuilder({
    runnerPath: SANDBOX_LAYOUT.runner,
    initialCwd: SANDBOX_LAYOUT.workdir,
    startTime: run.startedAt,
    noiseAreas: NOISE_AREAS,
    sensitivePaths: SENSITIVE_PATHS,
  });
  const kept = options.keptLines;
  const reducer =
    kept === undefined
      ? null
      : new TraceReducer({ noiseAreas: NOISE_AREAS, sensitivePaths: SENSITIVE_PATHS });
  if (options.traceLines) {
    for await (const line of options.traceLines) {
      if (line.trim() === '') continue;
      const parsed = parseStraceLine(line);
      builder.pushParsed(parsed, line);
      if (reducer?.keepParsed(parsed, line)) kept?.push(line);
    }
  }
  const behaviour = builder.finish();

  const payloads: Uint8Array[] = [];
  const connections: Connection[] = [];
  const dns = [];
  for (const event of options.capture) {
    if (event.type === 'dns') dns.push(toDnsQuery(event, run.startedAt * 1000));
    if (event.type === 'tcp' || event.type === 'udp') {
      const connection = toConnection(event, run.startedAt * 1000);
      connection.pids = behaviour.connects
        .filter((c) => c.ip === connection.ip && c.port === connection.port)
        .map((c) => c.pid)
        .filter((pid, i, all) => all.indexOf(pid) === i);
      connections.push(connection);
      payloads.push(Buffer.from(event.data_b64, 'base64'));
    }
  }
  const canaries = findCanaryHits(options.canaries, {
    files: behaviour.files,
    commands: behaviour.commands,
    dns,
    connections,
    payloads,
    indexPaths: options.indexPaths,
  });
  const phase: Phase = {
    status: run.status,
    exit_code: run.exitCode,
    duration_ms: Math.round(run.durationMs),
    stdout_tail: run.stdoutTail,
    stderr_tail: run.stderrTail,
    reason: run.reason,
    limits_hit: run.limitsHit,
    commands: behaviour.commands,
    files: behaviour.files,
    file_summary: behaviour.file_summary,
    dns,
    connections,
    canaries,
    survivors: mergeSurvivors(run.survivors, behaviour.survivors),
    modules: run.modules,
    process_count: behaviour.processCount,
  };
  if (!options.attribution) return phase;
  const { target } = options.attribution;
  const npm = options.attribution.ecosystem === 'npm';
  const processes = npm
    ? attributeNpmProcesses(behaviour.processes, {
        phase: options.attribution.phase,
        rootPid: behaviour.rootPid,
        target,
      })
    : attributeProcesses(behaviour.processes, {
        phase: options.attribution.phase,
        rootPid: behaviour.rootPid,
        target,
        modules: run.modules,
      });
  const attributed = attributePhase(phase, {
    processes,
    connects: behaviour.connects,
    ...(npm ? { installerOwnFile: isNpmOwnFile } : {}),
    ...(options.attribution.phase === 'import' && !npm
      ? { stagedOrder: stagedOrder(run.modules, target) }
      : {}),
  });
  return {
    ...attributed,
    canaries: attributeCanaries(attributed, { canaries: options.canaries, payloads }),
  };
}

/** Dependencies in the order the runner imported them, then the package. */
function stagedOrder(modules: Phase['modules'], target: string): string[] {
  const order: string[] = [];
  for (const m of modules) {
    const d = m.distribution === undefined ? null : normalizeName(m.distribution);
    if (d !== null && d !== normalizeName(target) && !order.includes(d)) order.push(d);
  }
  return [...order, normalizeName(target)];
}

/**
 * A hit's culprits are those whose own behaviour alone shows it: the hits are searched again in
 * each culprit's share. Hits in pip's requests to the index have no `by` (pip asked, on whose behalf
 * the trace cannot tell).
 */
function attributeCanaries(phase: Phase, ctx: { canaries: CanarySet; payloads: Uint8Array[] }): CanaryHit[] {
  if (phase.canaries.length === 0) return phase.canaries;
  const culprits = new Map<string, Attribution>();
  const key = (a: Attribution): string => `${a.kind}\0${a.distribution ?? ''}`;
  const all = [
    ...phase.commands.map((c) => c.by),
    ...[...phase.files, ...phase.dns, ...phase.connections].flatMap((x) => x.by ?? []),
  ];
  for (const a of all) if (a && !culprits.has(key(a))) culprits.set(key(a), a);
  const hitKey = (h: CanaryHit): string => `${h.canary}\0${h.how}\0${h.evidence}`;
  const found = new Map<string, Attribution[]>();
  const has = (by: readonly Attribution[] | undefined, k: string) => (by ?? []).some((a) => key(a) === k);
  for (const [k, culprit] of culprits) {
    const connections = phase.connections.filter((c) => has(c.by, k));
    const hits = findCanaryHits(ctx.canaries, {
      files: phase.files.filter((f) => has(f.by, k)),
      commands: phase.commands.filter((c) => has(c.by ? [c.by] : [], k)),
      dns: phase.dns.filter((q) => has(q.by, k)),
      connections,
      payloads: connections.map((c) => ctx.payloads[phase.connections.indexOf(c)] ?? new Uint8Array()),
      indexPaths: [],
    });
    for (const hit of hits) found.set(hitKey(hit), [...(found.get(hitKey(hit)) ?? []), culprit]);
  }
  return phase.canaries.map((hit) => {
    const by = found.get(hitKey(hit));
    return by ? { ...hit, by: uniqueAttributions(by) } : hit;
  });
}
