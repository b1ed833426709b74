import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { jobKey, openPostgresStore } from '../../src/adapters/store/postgres-store.ts';
import { coordinateHunt } from '../../src/app/coordinate-hunt.ts';
import { runWorker } from '../../src/app/run-worker.ts';
import { PkghuntError } from '../../src/core/errors.ts';
import type { BehaviourRecord } from '../../src/core/record/schema.ts';
import { startTestPostgres } from '../helpers/postgres.ts';

function fakeRecord(requested: string): BehaviourRecord {
  const [name = requested, version = '1.0'] = requested.split('==');
  return {
    schema_version: 1,
    tool: { name: 'pkghunt', version: '0' },
    run_id: `run-${name}`,
    started_at: '',
    finished_at: '',
    package: { ecosystem: 'pypi', name, version, requested, source: 'index', artifact: null, metadata: null },
    sandbox: {
      tracer: 'none',
      limits: { timeout_s: 1, memory_mb: 1, pids: 1, disk_mb: 1, output_kb: 1 },
      enforcement: {},
      host_uid: 200000,
      python: '/usr/bin/python3',
      canary_token: '0123456789abcdef',
    },
    phases: {
      install: {
        status: 'completed',
        exit_code: 0,
        duration_ms: 1,
        stdout_tail: '',
        stderr_tail: '',
        reason: null,
        limits_hit: [],
        commands: [],
        files: [],
        file_summary: [],
        dns: [{ name: `${name}.example`, type: 'A', time: 0, answer: null, server: null }],
        connections: [],
        canaries: [],
        survivors: [],
        modules: [],
        process_count: 1,
      },
    },
    index_requests: [],
  };
}

test('the PostgreSQL queue: idempotent enqueue, retries, permanent failures, one result per package', async () => {
  const server = await startTestPostgres();
  const cleanups: (() => Promise<void>)[] = [() => server.stop()];
  try {
    await checkQueue(server.url, cleanups);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
});

async function checkQueue(url: string, cleanups: (() => Promise<void>)[]): Promise<void> {
  const options = { leaseSeconds: 30, retryLimit: 2, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 };
  const coordinator = await openPostgresStore(url, options);
  cleanups.push(() => coordinator.stop({ drainMs: 1000 }));

  const targets = [
    { name: 'Alpha_Pkg', version: null },
    { name: 'beta', version: '2.0' },
    { name: 'flaky', version: null },
    { name: 'missing', version: null },
  ];
  assert.deepEqual(await coordinator.enqueue(targets), { queued: 4, skipped: 0 });
  assert.deepEqual(await coordinator.enqueue(targets), { queued: 0, skipped: 4 }, 'queued twice');
  assert.equal(jobKey({ name: 'Alpha_Pkg', version: null }), 'alpha-pkg');

  const calls = new Map<string, number>();
  const worker = await openPostgresStore(url, options);
  const controller = new AbortController();
  const running = runWorker(worker, {
    concurrency: 2,
    drainMs: 5000,
    signal: controller.signal,
    analyze: async (requested) => {
      calls.set(requested, (calls.get(requested) ?? 0) + 1);
      if (requested === 'missing') throw new PkghuntError('PACKAGE_NOT_FOUND', 'no such project');
      if (requested === 'flaky' && calls.get(requested) === 1) {
        throw new PkghuntError('INDEX_UNREACHABLE', 'index answered 503');
      }
      return { record: fakeRecord(requested), traces: [] };
    },
  });
  const counts = await coordinateHunt(coordinator, targets, { pollMs: 200 });
  controller.abort();
  await running;

  assert.deepEqual(counts, { queued: 0, running: 0, done: 3, failed: 1 });
  assert.equal(calls.get('missing'), 1, 'a permanent failure is not retried');
  assert.equal(calls.get('flaky'), 2, 'a transient failure is retried');

  const db = new pg.Client({ connectionString: url });
  await db.connect();
  cleanups.push(() => db.end());
  const results = await db.query(
    'SELECT job_key, count(*)::int AS n FROM pkghunt_results GROUP BY 1 ORDER BY 1',
  );
  assert.deepEqual(results.rows, [
    { job_key: 'alpha-pkg', n: 1 },
    { job_key: 'beta==2.0', n: 1 },
    { job_key: 'flaky', n: 1 },
  ]);
  const failures = await db.query('SELECT job_key, code, final FROM pkghunt_failures ORDER BY job_key');
  assert.deepEqual(failures.rows, [
    { job_key: 'flaky', code: 'INDEX_UNREACHABLE', final: false },
    { job_key: 'missing', code: 'PACKAGE_NOT_FOUND', final: true },
  ]);
  const dns = await coordinator.query('dns');
  assert.deepEqual(
    dns.find((row) => row.name === 'beta.example'),
    { name: 'beta.example', packages: 1 },
  );
  assert.deepEqual(
    (await coordinator.failedJobs()).map((j) => [j.project, j.state, j.lastError]),
    [['missing', 'failed', 'PACKAGE_NOT_FOUND: no such project']],
  );

  const stored = await coordinator.getRecord('alpha-pkg');
  assert.equal(stored?.package.requested, 'Alpha_Pkg');

  // Resuming: everything finished (or finally failed) is skipped, nothing is queued again.
  assert.deepEqual(await coordinator.enqueue(targets), { queued: 0, skipped: 4 });
}
