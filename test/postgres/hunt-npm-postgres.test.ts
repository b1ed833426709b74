import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildNpmRegistry } from '../../demo/build-npm-registry.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { startTestPostgres } from '../helpers/postgres.ts';
import { keepTail, runCli } from '../helpers/run-cli.ts';

test('hunt --ecosystem npm --db postgres:// queues npm jobs that a worker with --registry analyses', {
  timeout: 300_000,
}, async () => {
  const server = await startTestPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-pghunt-npm-'));
  const registry = join(dir, 'registry');
  await buildNpmRegistry(registry);
  const names = join(dir, 'names.txt');
  writeFileSync(names, 'ph-npm-tokensteal\nph-npm-util\n');
  const worker = spawn(
    join(PROJECT_ROOT, 'bin/pkghunt'),
    ['worker', '--db', server.url, '--registry', registry, '--phases', 'install', '--poll', '0.5', '--json'],
    { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const workerExit = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
  // Read (an unread pipe could block the worker) and shown when the hunt fails: once (1 run in 8)
  // the hunt waited 240 s for results and the worker's side was not known.
  const workerStderr = keepTail(worker.stderr);
  const hunt = [
    'hunt',
    '--ecosystem',
    'npm',
    '--registry',
    registry,
    '--db',
    server.url,
    '--from',
    names,
    '--json',
  ];
  try {
    const result = await runCli(hunt, { timeoutMs: 240_000 });
    assert.equal(result.code, 0, `${result.stderr}\n--- worker's stderr (tail):\n${workerStderr()}`);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.find((l) => l.type === 'hunt-enqueued')?.queued, 2);
    const summary = lines.at(-1) as { counts: { done: number; failed: number } };
    assert.deepEqual([summary.counts.done, summary.counts.failed], [2, 0]);
    const suspicious = await runCli([
      'query',
      'suspicious',
      '--ecosystem',
      'npm',
      '--db',
      server.url,
      '--json',
    ]);
    assert.deepEqual(
      (JSON.parse(suspicious.stdout) as { ecosystem: string; project: string; verdict_level: string }[]).map(
        (r) => `${r.ecosystem}:${r.project}:${r.verdict_level}`,
      ),
      ['npm:ph-npm-tokensteal:malicious'],
    );
    const shown = await runCli(['show', 'npm:ph-npm-util', '--db', server.url, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).package.requested, 'npm:ph-npm-util@1.0.0');
    const none = await runCli(['query', 'outcomes', '--ecosystem', 'pypi', '--db', server.url, '--json']);
    assert.deepEqual(JSON.parse(none.stdout), []);
    // Again: both have their result, nothing is queued.
    const again = await runCli(hunt);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes('"queued":0'), again.stdout);
  } finally {
    worker.kill('SIGTERM');
    await workerExit;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
