import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/config.ts';
import { newLeftovers, snapshotHost } from '../helpers/leftovers.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

const DEMO = [
  'ph-demo-cext',
  'ph-demo-ci-exfil',
  'ph-demo-gist-dropper',
  'ph-demo-obfuscated',
  'ph-demo-pure',
];

function huntArgs(db: string, extra: string[] = []): string[] {
  return [
    'hunt',
    '--db',
    db,
    '--index-url',
    DEMO_INDEX_URL,
    '--match',
    'ph-demo-*',
    '--timeout',
    '120',
    ...extra,
  ];
}

/** Results per project and job states, read straight from the SQLite file. */
function inspect(db: string): { results: Map<string, number>; states: Map<string, string> } {
  const conn = new Database(db, { readonly: true });
  try {
    const results = new Map<string, number>();
    for (const row of conn.prepare('SELECT project, COUNT(*) AS n FROM results GROUP BY project').all() as {
      project: string;
      n: number;
    }[])
      results.set(row.project, row.n);
    const states = new Map<string, string>();
    for (const row of conn.prepare('SELECT project, state FROM jobs').all() as {
      project: string;
      state: string;
    }[])
      states.set(row.project, row.state);
    return { results, states };
  } finally {
    conn.close();
  }
}

function assertExactlyOneEach(db: string): void {
  const { results, states } = inspect(db);
  assert.deepEqual([...results.keys()].sort(), DEMO);
  for (const [project, n] of results) assert.equal(n, 1, `${project} has ${n} results`);
  for (const [project, state] of states) assert.equal(state, 'done', `${project} is ${state}`);
}

/** Starts a hunt with --json and resolves once `ready(event)` holds for an NDJSON event. */
function startHunt(args: string[], ready: (event: Record<string, unknown>) => boolean) {
  const child = spawn(join(PROJECT_ROOT, 'bin/pkghunt'), [...args, '--json'], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  const reached = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        if (ready(JSON.parse(line) as Record<string, unknown>)) resolve();
      } catch {
        // not an event line
      }
    });
  });
  return { child, exited, reached };
}

test('hunt --workers 2 over the demo index: one result each, views show the exfiltration', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-hunt-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const before = snapshotHost();
  const db = join(dir, 'db.sqlite');
  const run = await runCli([...huntArgs(db, ['--workers', '2']), '--json']);
  assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
  assertExactlyOneEach(db);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
    type: string;
    counts: { done: number };
    tables: { connected: { project: string; host: string; port: number }[]; dns: { name: string }[] };
  };
  assert.equal(summary.type, 'summary');
  assert.equal(summary.counts.done, 5);
  assert.ok(
    summary.tables.connected.some(
      (r) =>
        r.project === 'ph-demo-ci-exfil' && r.host === 'ci-collector.exfil-demo.example' && r.port === 5566,
    ),
  );
  assert.ok(
    summary.tables.connected.some(
      (r) => r.project === 'ph-demo-gist-dropper' && r.host === 'gist.githubusercontent.com',
    ),
  );
  assert.ok(summary.tables.dns.some((r) => r.name === 'gist.githubusercontent.com'));

  const again = await runCli([...huntArgs(db, ['--workers', '2']), '--json']);
  assert.equal(again.code, 0);
  assert.ok(!again.stdout.includes('"job-start"'), 'a finished hunt starts nothing again');
  assertExactlyOneEach(db);

  const shown = await runCli(['show', 'ph-demo-ci-exfil', '--db', db, '--json']);
  assert.equal(shown.code, 0);
  assert.equal((JSON.parse(shown.stdout) as { package: { name: string } }).package.name, 'ph-demo-ci-exfil');
  const hosts = await runCli(['query', 'hosts', '--db', db]);
  assert.match(hosts.stdout, /ci-collector\.exfil-demo\.example\s+5566/);
  const exported = await runCli(['export', '--db', db, '--format', 'jsonl']);
  assert.equal(exported.stdout.trim().split('\n').length, 5);
  assert.deepEqual(await newLeftovers(before), []);
});

test('Ctrl-C stops cleanly and the next run resumes: nothing lost, nothing duplicated', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-hunt-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const before = snapshotHost();
  const db = join(dir, 'db.sqlite');
  let done = 0;
  const first = startHunt(
    huntArgs(db, ['--workers', '2']),
    (e) => e.type === 'job-end' && e.outcome === 'done' && ++done === 1,
  );
  await first.reached;
  first.child.kill('SIGINT');
  assert.equal(await first.exited, 130);
  const middle = inspect(db);
  assert.ok(![...middle.states.values()].includes('running'), 'interrupted jobs went back to pending');
  assert.ok([...middle.states.values()].includes('pending'), 'the interrupt came mid-run');
  assert.deepEqual(await newLeftovers(before), [], 'in-flight sandboxes were destroyed');
  const resumed = await runCli(huntArgs(db, ['--workers', '2']));
  assert.equal(resumed.code, 0, resumed.stderr);
  assertExactlyOneEach(db);
});

test('a hunt killed with SIGKILL mid-run resumes after the lease: nothing lost, nothing duplicated', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-hunt-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const before = snapshotHost();
  const db = join(dir, 'db.sqlite');
  const args = huntArgs(db, ['--workers', '2', '--lease-seconds', '3']);
  let started = 0;
  const first = startHunt(args, (e) => e.type === 'job-start' && ++started === 3);
  await first.reached;
  first.child.kill('SIGKILL');
  await first.exited;
  assert.ok([...inspect(db).states.values()].includes('running'), 'the killed hunt held jobs');
  const resumed = await runCli(args);
  assert.equal(resumed.code, 0, resumed.stderr);
  assertExactlyOneEach(db);
  // Its work dirs too (pkghunt-analyze-<pid>-*): the resumed hunt's stale clean-up removes them.
  assert.deepEqual(await newLeftovers(before), [], 'the resumed hunt cleaned what the killed one left');
});
