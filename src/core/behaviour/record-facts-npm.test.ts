import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyPhase } from '../record/empty-phase.ts';
import { type BehaviourRecord, type Command, SCHEMA_VERSION } from '../record/schema.ts';
import { isNpmOwnCommand, recordFacts } from './record-facts.ts';

function command(argv: string[], by?: Command['by']): Command {
  return { argv, cwd: null, pid: 1, ppid: null, time: 0, exe: argv[0] ?? '', ...(by ? { by } : {}) };
}

const npmItself = command(['/usr/bin/node', '/usr/bin/npm', 'install', 'p@1.0.0'], {
  kind: 'pip',
  distribution: null,
  method: 'npm',
});
const probe = command(['node', '-e', 'require("p")']);
const script = command(['sh', '-c', 'node collect.js'], {
  kind: 'package',
  distribution: 'p',
  method: 'script-cwd',
});

test('npm records: npm itself and the entry-point probes are not the package commands', () => {
  assert.equal(isNpmOwnCommand(npmItself), true);
  assert.equal(isNpmOwnCommand(probe), true);
  assert.equal(isNpmOwnCommand(command(['node', '--input-type=module', '-e', 'await import("p")'])), true);
  assert.equal(isNpmOwnCommand(script), false);
  assert.equal(isNpmOwnCommand(command(['node', '-e', 'fetch("http://x")'])), false);
  const record: BehaviourRecord = {
    schema_version: SCHEMA_VERSION,
    tool: { name: 'pkghunt', version: '0.1.0' },
    run_id: 'r',
    started_at: '2024-01-01T00:00:00.000Z',
    finished_at: '2024-01-01T00:00:01.000Z',
    package: {
      ecosystem: 'npm',
      name: 'p',
      version: '1.0.0',
      requested: 'npm:p@1.0.0',
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
    phases: { install: emptyPhase({ commands: [npmItself, script, probe] }) },
    index_requests: [],
  };
  assert.deepEqual(
    recordFacts(record).commands.map((c) => c.command),
    ['sh -c node collect.js'],
  );
});
