import { readFileSync } from 'node:fs';
import { emptyPhase } from '../record/empty-phase.ts';
import type { Attribution, BehaviourRecord, Phase } from '../record/schema.ts';
import { type Allowlist, parseAllowlist } from './allowlist.ts';

/** Hand-built records for the detection unit tests. */
export function record(
  phases: { install?: Partial<Phase>; import?: Partial<Phase> },
  name = 'pkg',
): BehaviourRecord {
  return {
    schema_version: 1,
    tool: { name: 'pkghunt', version: '0' },
    run_id: 'r',
    started_at: '',
    finished_at: '',
    package: {
      ecosystem: 'pypi',
      name,
      version: '1.0',
      requested: name,
      source: 'index',
      artifact: null,
      metadata: null,
    },
    sandbox: {
      tracer: 'strace',
      limits: { timeout_s: 1, memory_mb: 1, pids: 1, disk_mb: 1, output_kb: 1 },
      enforcement: {},
      host_uid: 1,
      python: '/usr/bin/python3',
      canary_token: 'tok',
    },
    phases: {
      ...(phases.install ? { install: emptyPhase(phases.install) } : {}),
      ...(phases.import ? { import: emptyPhase(phases.import) } : {}),
    },
    index_requests: [],
  };
}

let nextPid = 100;
export function cmd(
  argv: string[],
  options: { pid?: number; ppid?: number; by?: Attribution } = {},
): Phase['commands'][number] {
  return {
    argv,
    cwd: '/builds/app',
    pid: options.pid ?? nextPid++,
    ppid: options.ppid ?? 1,
    time: 0,
    exe: argv[0] ?? '',
    ...(options.by ? { by: options.by } : {}),
  };
}

export function file(
  path: string,
  ops: Phase['files'][number]['ops'],
  options: { pids?: number[]; flags?: string[]; by?: Attribution[] } = {},
): Phase['files'][number] {
  return {
    path,
    ops,
    flags: options.flags ?? [],
    count: 1,
    failed: 0,
    errors: [],
    pids: options.pids ?? [5],
    ...(options.by ? { by: options.by } : {}),
  };
}

export function conn(
  host: string | null,
  ip: string,
  port: number,
  options: { pids?: number[]; preview?: string; by?: Attribution[] } = {},
): Phase['connections'][number] {
  return {
    protocol: 'tcp',
    ip,
    port,
    hostname: host,
    sent_bytes: options.preview?.length ?? 0,
    sent_preview: options.preview ?? '',
    http: null,
    tls_sni: null,
    time: 0,
    pids: options.pids ?? [5],
    ...(options.by ? { by: options.by } : {}),
  };
}

export function dns(name: string, by?: Attribution[]): Phase['dns'][number] {
  return { name, type: 'A', time: 0, answer: '127.53.0.1', server: '127.53.0.1', ...(by ? { by } : {}) };
}

export const PIP: Attribution = { kind: 'pip', distribution: null, method: 'process-tree' };
export function dep(name: string): Attribution {
  return { kind: 'dependency', distribution: name, method: 'process-tree' };
}
export function own(name = 'pkg'): Attribution {
  return { kind: 'package', distribution: name, method: 'process-tree' };
}

/** The reviewed allowlist of the repository (data/allowlist.json). */
export function repoAllowlist(): Allowlist {
  return parseAllowlist(
    JSON.parse(readFileSync(new URL('../../../data/allowlist.json', import.meta.url), 'utf8')),
  );
}
