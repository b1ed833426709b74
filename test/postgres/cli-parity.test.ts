import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import { startTestPostgres } from '../helpers/postgres.ts';
import { DEMO_INDEX_URL, keepTail, runCli } from '../helpers/run-cli.ts';

const PACKAGES = ['ph-demo-pure', 'ph-demo-ci-exfil'];

function sortedJson(rows: unknown[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

/** What show/query/export print, reduced to what must match between engines (not run ids, times). */
async function observe(db: string): Promise<Record<string, unknown>> {
  const show = await runCli(['show', 'ph-demo-ci-exfil', '--db', db, '--json']);
  assert.equal(show.code, 0, show.stderr);
  const record = JSON.parse(show.stdout) as {
    package: { name: string; version: string };
    phases: Record<string, { status: string; connections: { port: number; protocol: string }[] }>;
  };
  const hosts = await runCli(['query', 'hosts', '--db', db, '--json']);
  assert.equal(hosts.code, 0, hosts.stderr);
  const outcomes = await runCli(['query', 'outcomes', '--db', db, '--json']);
  assert.equal(outcomes.code, 0, outcomes.stderr);
  const suspicious = await runCli(['query', 'suspicious', '--db', db, '--json']);
  assert.equal(suspicious.code, 0, suspicious.stderr);
  const exported = await runCli(['export', '--format', 'jsonl', '--db', db]);
  assert.equal(exported.code, 0, exported.stderr);
  const lines = exported.stdout.trim().split('\n');
  const future = await runCli(['export', '--format', 'jsonl', '--since', '2999-01-01', '--db', db]);
  assert.equal(future.code, 0, future.stderr);
  return {
    shown: {
      name: record.package.name,
      version: record.package.version,
      statuses: Object.fromEntries(Object.entries(record.phases).map(([k, v]) => [k, v.status])),
      installConnections: (record.phases.install?.connections ?? [])
        .map((c) => `${c.protocol}/${c.port}`)
        .sort(),
    },
    hosts: sortedJson(JSON.parse(hosts.stdout) as unknown[]),
    outcomes: sortedJson(JSON.parse(outcomes.stdout) as unknown[]),
    suspiciousNames: (JSON.parse(suspicious.stdout) as { project: string }[]).map((r) => r.project).sort(),
    exported: lines
      .map((l) => JSON.parse(l) as { package: { name: string; version: string } })
      .map((r) => `${r.package.name}==${r.package.version}`)
      .sort(),
    exportedSince2999: future.stdout.trim(),
  };
}

test('show, query, export and report read a PostgreSQL hunt exactly as the same hunt on SQLite; diff works on it', {
  timeout: 900_000,
}, async () => {
  const server = await startTestPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'pkghunt-pgparity-'));
  const names = join(dir, 'names.txt');
  writeFileSync(names, `${PACKAGES.join('\n')}\n`);
  const sqliteDb = join(dir, 'store.db');
  const worker = spawn(
    join(PROJECT_ROOT, 'bin/pkghunt'),
    [
      'worker',
      '--db',
      server.url,
      '--index-url',
      DEMO_INDEX_URL,
      '--workers',
      '2',
      '--poll',
      '0.5',
      '--trace-dir',
      join(dir, 'pg-traces'),
      '--json',
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const workerLog = keepTail(worker.stderr);
  const workerExit = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)));
  try {
    const common = ['--from', names, '--index-url', DEMO_INDEX_URL, '--json'];
    const onSqlite = await runCli(['hunt', '--db', sqliteDb, '--workers', '2', ...common], {
      env: { TMPDIR: dir },
      timeoutMs: 400_000,
    });
    assert.equal(onSqlite.code, 0, onSqlite.stderr);
    const onPostgres = await runCli(['hunt', '--db', server.url, ...common], { timeoutMs: 400_000 });
    assert.equal(onPostgres.code, 0, `${onPostgres.stderr}\n${workerLog()}`);
    const summaries = [onSqlite, onPostgres].map(
      (r) =>
        JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { type: string; counts: { done: number } },
    );
    assert.deepEqual(
      summaries.map((s) => [s.type, s.counts.done]),
      [
        ['summary', 2],
        ['summary', 2],
      ],
    );

    const fromSqlite = await observe(sqliteDb);
    const fromPostgres = await observe(server.url);
    assert.deepEqual(fromPostgres, fromSqlite);
    // The comparison is about something: the exfiltrating package connected out while installing.
    assert.deepEqual(
      (fromSqlite.exported as string[]).map((r) => r.split('==')[0]),
      [...PACKAGES].sort(),
    );
    assert.ok((fromSqlite.hosts as string[]).length > 0, 'hosts has rows');
    assert.equal(fromSqlite.exportedSince2999, '');
    // Selection options work on PostgreSQL: nothing was uploaded after 2999, so nothing is queued.
    const later = await runCli([
      'hunt',
      '--db',
      server.url,
      ...common,
      '--since',
      '2999-01-01',
      '--all-versions',
    ]);
    assert.equal(later.code, 0, later.stderr);
    const enqueued = later.stdout.split('\n').find((l) => l.includes('"hunt-enqueued"')) ?? '{}';
    assert.equal((JSON.parse(enqueued) as { queued?: number }).queued, 0, later.stdout);
    // report reads either engine: the same numbers and the same suspicious packages.
    const reports = await Promise.all(
      [sqliteDb, server.url].map(async (db) => {
        const r = await runCli(['report', '--db', db, '--json']);
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as {
          packages: number;
          suspicious: {
            top: { package: string; level: string; findings: { rule: string }[] }[];
          };
        };
        // Evidence texts hold each run's canary token and pids: compare what they found.
        const top = report.suspicious.top.map((p) => [
          p.package,
          p.level,
          p.findings.map((f) => f.rule).sort(),
        ]);
        return { ...report, suspicious: { ...report.suspicious, top } };
      }),
    );
    assert.deepEqual(reports[1], reports[0]);
    assert.equal(reports[0]?.packages, PACKAGES.length);
    // diff on PostgreSQL analyses the versions it lacks, stores them, and reads them back after.
    const analysedDiff = await runCli(
      ['diff', 'ph-test-diff', '1.0.0', '2.0.0', '--db', server.url, '--index-url', DEMO_INDEX_URL, '--json'],
      { timeoutMs: 400_000 },
    );
    assert.equal(analysedDiff.code, 0, analysedDiff.stderr);
    const first = JSON.parse(analysedDiff.stdout) as { analysed: string[] };
    assert.deepEqual(first.analysed, ['1.0.0', '2.0.0']);
    const storedDiff = await runCli([
      'diff',
      'ph-test-diff',
      '1.0.0',
      '2.0.0',
      '--db',
      server.url,
      '--no-analyze',
      '--json',
    ]);
    assert.equal(storedDiff.code, 0, storedDiff.stderr);
    const second = JSON.parse(storedDiff.stdout) as { analysed: string[] };
    assert.deepEqual(second.analysed, []);
    assert.deepEqual({ ...second, analysed: [] }, { ...first, analysed: [] });
    const missing = await runCli([
      'diff',
      'ph-test-diff',
      '1.0.0',
      '3.0.0',
      '--db',
      server.url,
      '--no-analyze',
      '--json',
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout + missing.stderr, /PACKAGE_NOT_FOUND/);
    // Reduced traces were kept by both (the default), next to the SQLite file and in --trace-dir.
    assert.ok(readdirSync(join(dir, 'traces')).length > 0, 'SQLite hunt kept traces');
    assert.ok(readdirSync(join(dir, 'pg-traces')).length > 0, 'worker kept traces');
  } finally {
    worker.kill('SIGTERM');
    await workerExit;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
