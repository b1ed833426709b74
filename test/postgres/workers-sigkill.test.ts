import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { cleanupStaleNetns } from '../../src/adapters/netns/cleanup-stale-netns.ts';
import { cleanupStaleSandboxes } from '../../src/adapters/sandbox/cleanup-stale-sandboxes.ts';
import { openPostgresStore } from '../../src/adapters/store/postgres-store.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { snapshotHost } from '../helpers/leftovers.ts';
import { startTestPostgres } from '../helpers/postgres.ts';
import { DEMO_INDEX_URL } from '../helpers/run-cli.ts';

const PACKAGES = ['ph-demo-cext', 'ph-demo-pure', 'ph-demo-ci-exfil', 'ph-demo-gist-dropper'];
const LEASE_S = 60;

interface Worker {
  child: ChildProcess;
  events: { type: string; key?: string }[];
  log: string;
  exited: Promise<number | null>;
}

function startWorker(url: string): Worker {
  const child = spawn(
    join(PROJECT_ROOT, 'bin/pkghunt'),
    [
      'worker',
      '--db',
      url,
      '--workers',
      '1',
      '--index-url',
      DEMO_INDEX_URL,
      '--phases',
      'install',
      '--timeout',
      '50',
      '--lease',
      String(LEASE_S),
      '--check-interval',
      '1',
      '--poll',
      '0.5',
      '--json',
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: WORKER_TMP }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const worker: Worker = {
    child,
    events: [],
    log: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim()) worker.events.push(JSON.parse(line) as { type: string; key?: string });
    }
  });
  child.stderr?.on('data', (d: Buffer) => {
    worker.log = (worker.log + d.toString()).slice(-8000);
  });
  return worker;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

// The workers get a temp dir of their own: the SIGKILLed one cannot remove its work dir, and
// removing "every new pkghunt-analyze-* dir" would take those of other runs on this host too.
const WORKER_TMP = mkdtempSync(join(tmpdir(), 'pkghunt-pgtest-'));

test('two workers on PostgreSQL, one SIGKILLed mid-job: every package ends with exactly one result', {
  timeout: 600_000,
}, async () => {
  const server = await startTestPostgres();
  const workers: Worker[] = [];
  const db = new pg.Client({ connectionString: server.url });
  try {
    const coordinator = await openPostgresStore(server.url, {
      leaseSeconds: LEASE_S,
      retryLimit: 2,
      retryDelaySeconds: 1,
    });
    try {
      const enqueued = await coordinator.enqueue(PACKAGES.map((name) => ({ name, version: null })));
      assert.deepEqual(enqueued, { queued: PACKAGES.length, skipped: 0 });
    } finally {
      await coordinator.stop({ drainMs: 1000 });
    }
    await db.connect();

    const victim = startWorker(server.url);
    const survivor = startWorker(server.url);
    workers.push(victim, survivor);

    // Mid-job: the victim said it started a job and the database shows that job leased.
    const key = await until('the victim to start a job', 120_000, async () => {
      const started = victim.events.find((e) => e.type === 'job-start')?.key;
      if (!started) return null;
      const active = await db.query("SELECT 1 FROM pgboss.job WHERE state = 'active' AND data->>'key' = $1", [
        started,
      ]);
      return (active.rowCount ?? 0) > 0 ? started : null;
    });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(
      victim.events.some((e) => e.type === 'job-done' && e.key === key),
      false,
      'the kill lands mid-job',
    );
    victim.child.kill('SIGKILL');
    assert.equal(await victim.exited, null);

    // The survivor finishes its own jobs, then the victim's once its lease ends.
    await until('every job to finish', 400_000, async () => {
      const open = await db.query(
        "SELECT count(*)::int AS n FROM pgboss.job WHERE state IN ('created', 'retry', 'active')",
      );
      return open.rows[0]?.n === 0 ? true : null;
    });
    const results = await db.query<{ job_key: string; n: number; status: string }>(
      `SELECT job_key, count(*)::int AS n, min(install_status) AS status
       FROM pkghunt_results GROUP BY job_key ORDER BY job_key`,
    );
    assert.deepEqual(
      results.rows.map((r) => [r.job_key, r.n]),
      [...PACKAGES].sort().map((name) => [name, 1]),
      `one result per package; survivor log:\n${survivor.log}`,
    );
    for (const row of results.rows) assert.equal(row.status, 'completed', row.job_key);
    const killed = await db.query<{ worker: string; record: { package: { name: string } } }>(
      'SELECT worker, record FROM pkghunt_results WHERE job_key = $1',
      [key],
    );
    assert.equal(killed.rows[0]?.worker.endsWith(`:${survivor.child.pid}`), true, 'retried by the survivor');
    assert.equal(killed.rows[0]?.record.package.name, key);

    // SIGTERM: the survivor stops cleanly.
    survivor.child.kill('SIGTERM');
    assert.equal(await survivor.exited, 0, survivor.log);
  } finally {
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGKILL');
        await w.exited;
      }
    }
    await db.end().catch(() => {});
    await server.stop();
    // What the SIGKILLed worker could not undo itself (a restarted worker does the same).
    await cleanupStaleSandboxes();
    await cleanupStaleNetns();
    rmSync(WORKER_TMP, { recursive: true, force: true });
  }
  // Other test runs may share this host: look only at what our two workers owned.
  const pids = workers.map((w) => String(w.child.pid));
  const ours = (name: string): boolean => pids.some((pid) => name.startsWith(`pkghunt-${pid}-`));
  assert.deepEqual(snapshotHost().netns.filter(ours), [], 'no network namespace of our workers remains');
  const runs = '/run/pkghunt/runs';
  const owners = (existsSync(runs) ? readdirSync(runs, { withFileTypes: true }) : [])
    .filter((e) => e.name.endsWith('.owner.json'))
    .map((e) => readFileSync(join(runs, e.name), 'utf8'))
    .filter((text) => pids.some((pid) => text.includes(`"pid":${pid},`)));
  assert.deepEqual(owners, [], 'no sandbox of our workers remains');
  assert.deepEqual(
    readdirSync(tmpdir()).filter((n) => n.startsWith('pkghunt-pg-')),
    [],
    'the database directory is gone',
  );
});
