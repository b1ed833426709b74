import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import { startTestPostgres } from '../helpers/postgres.ts';
import { DEMO_INDEX_URL, keepTail, runCli } from '../helpers/run-cli.ts';

test('hunt --db postgres:// enqueues the selection and follows it while a worker analyses it', {
  timeout: 300_000,
}, async () => {
  const server = await startTestPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-pghunt-'));
  const names = join(dir, 'names.txt');
  writeFileSync(names, 'ph-demo-pure\nph-demo-ci-exfil\n');
  const worker = spawn(
    join(PROJECT_ROOT, 'bin/pkghunt'),
    [
      'worker',
      '--db',
      server.url,
      '--index-url',
      DEMO_INDEX_URL,
      '--phases',
      'install',
      '--poll',
      '0.5',
      '--json',
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const workerExit = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
  const workerStderr = keepTail(worker.stderr);
  try {
    const result = await runCli(
      ['hunt', '--db', server.url, '--from', names, '--index-url', DEMO_INDEX_URL, '--json'],
      {
        timeoutMs: 240_000,
      },
    );
    assert.equal(result.code, 0, `${result.stderr}\n--- worker's stderr (tail):\n${workerStderr()}`);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const enqueued = lines.find((l) => l.type === 'hunt-enqueued');
    assert.equal(enqueued?.queued, 2);
    const summary = lines.at(-1) as {
      type: string;
      counts: { done: number; failed: number; pending: number };
    };
    assert.equal(summary.type, 'summary');
    assert.deepEqual([summary.counts.done, summary.counts.failed, summary.counts.pending], [2, 0, 0]);
    // Running the same hunt again queues nothing: both packages have their result.
    const again = await runCli([
      'hunt',
      '--db',
      server.url,
      '--from',
      names,
      '--index-url',
      DEMO_INDEX_URL,
      '--json',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes('"queued":0'), again.stdout);
  } finally {
    worker.kill('SIGTERM');
    await workerExit;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
