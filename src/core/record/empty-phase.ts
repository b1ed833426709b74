import type { Phase } from './schema.ts';

/** A phase with nothing observed: the base for phases that did not run and for test records. */
export function emptyPhase(overrides: Partial<Phase> = {}): Phase {
  return {
    status: 'completed',
    exit_code: null,
    duration_ms: 0,
    stdout_tail: '',
    stderr_tail: '',
    reason: null,
    limits_hit: [],
    commands: [],
    files: [],
    file_summary: [],
    dns: [],
    connections: [],
    canaries: [],
    survivors: [],
    modules: [],
    process_count: 0,
    ...overrides,
  };
}
