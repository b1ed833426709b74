import type { CaptureEvent } from '../adapters/netns/network-sandbox.ts';
import type { PhaseRun } from '../adapters/sandbox/sandbox.ts';
import { findCanaryHits } from '../core/canary/find-canary-hits.ts';
import type { CanarySet } from '../core/canary/make-canaries.ts';
import { toConnection } from '../core/net/to-connection.ts';
import { toDnsQuery } from '../core/net/to-dns-query.ts';
import type { Connection, Phase, Survivor } from '../core/record/schema.ts';
import { SANDBOX_LAYOUT } from '../core/sandbox/layout.ts';
import { TraceBehaviourBuilder } from '../core/trace/build-behaviour.ts';

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
  if (options.traceLines) for await (const line of options.traceLines) builder.push(line);
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
  return {
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
}
