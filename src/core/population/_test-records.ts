import { emptyPhase } from '../record/empty-phase.ts';
import type { Attribution, BehaviourRecord, Phase } from '../record/schema.ts';

/** Hand-built records for the unit tests of population, diff and report. */
export function testRecord(
  name: string,
  version: string,
  phases: { install?: Partial<Phase>; import?: Partial<Phase> },
  extra: Record<string, unknown> = {},
): BehaviourRecord {
  const base = { exit_code: 0, duration_ms: 1, process_count: 1 };
  return {
    schema_version: 1,
    tool: { name: 'pkghunt', version: '0' },
    run_id: `r-${name}-${version}`,
    started_at: '',
    finished_at: '',
    package: {
      ecosystem: 'pypi',
      name,
      version,
      requested: name,
      source: 'index',
      artifact: null,
      metadata: null,
    },
    sandbox: {
      tracer: 'strace',
      limits: { timeout_s: 1, memory_mb: 1, pids: 1, disk_mb: 1, output_kb: 1 },
      enforcement: {},
      host_uid: 200000,
      python: '/usr/bin/python3',
      canary_token: '0123456789abcdef',
    },
    phases: {
      ...(phases.install ? { install: emptyPhase({ ...base, ...phases.install }) } : {}),
      ...(phases.import ? { import: emptyPhase({ ...base, ...phases.import }) } : {}),
    },
    index_requests: [],
    ...extra,
  };
}

export function cmd(argv: string[], by?: Attribution): Phase['commands'][number] {
  return { argv, cwd: '/', pid: 9, ppid: 1, time: 0, exe: argv[0] ?? '', ...(by ? { by } : {}) };
}

export function conn(
  host: string | null,
  ip: string,
  port: number,
  by?: Attribution[],
): Phase['connections'][number] {
  return {
    protocol: 'tcp',
    ip,
    port,
    hostname: host,
    sent_bytes: 1,
    sent_preview: 'x',
    http: null,
    tls_sni: null,
    time: 0,
    pids: [],
    ...(by ? { by } : {}),
  };
}

export function dns(name: string, by?: Attribution[]): Phase['dns'][number] {
  return { name, type: 'A', time: 0, answer: null, server: null, ...(by ? { by } : {}) };
}

export function file(
  path: string,
  ops: Phase['files'][number]['ops'],
  by?: Attribution[],
): Phase['files'][number] {
  return { path, ops, flags: [], count: 1, failed: 0, errors: [], pids: [], ...(by ? { by } : {}) };
}

export const DEP: Attribution = { kind: 'dependency', distribution: 'evil-dep', method: 'process-tree' };
export const PKG: Attribution = { kind: 'package', distribution: 'p', method: 'process-tree' };
