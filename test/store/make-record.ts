import { emptyPhase } from '../../src/core/record/empty-phase.ts';
import { type BehaviourRecord, type Phase, SCHEMA_VERSION } from '../../src/core/record/schema.ts';

/** A small valid record; `install` overrides the install phase's fields. */
export function makeRecord(name: string, version: string, install: Partial<Phase> = {}): BehaviourRecord {
  const phase: Phase = emptyPhase({ exit_code: 0, duration_ms: 10, process_count: 1, ...install });
  return {
    schema_version: SCHEMA_VERSION,
    tool: { name: 'pkghunt', version: '0.1.0' },
    run_id: `run-${name}-${version}`,
    started_at: '2024-01-01T00:00:00.000Z',
    finished_at: '2024-01-01T00:00:01.000Z',
    package: {
      ecosystem: 'pypi',
      name,
      version,
      requested: `${name}==${version}`,
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
      canary_token: 'x',
    },
    phases: { install: phase },
    index_requests: [],
  };
}
