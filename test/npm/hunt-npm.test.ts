import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { buildNpmRegistry, NPM_FIXTURES_DIR, publishNpmPackage } from '../../demo/build-npm-registry.ts';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
import { startNpmRegistryServer } from '../helpers/npm-registry-server.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'pkghunt-hunt-npm-'));
const registry = join(dir, 'registry');
const db = join(dir, 'hunt.db');

interface Row {
  ecosystem: string;
  project: string;
  version: string;
  level: string | null;
}

function results(): Row[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn
      .prepare(
        'SELECT ecosystem, project, version, verdict_level AS level FROM results ORDER BY ecosystem, project, version',
      )
      .all() as Row[];
  } finally {
    conn.close();
  }
}

function noRelease(project: string): string | null {
  const conn = new Database(db, { readonly: true });
  try {
    const row = conn
      .prepare(`SELECT no_release_reason AS reason FROM projects WHERE ecosystem = 'npm' AND normalized = ?`)
      .get(project) as { reason: string | null } | undefined;
    return row?.reason ?? null;
  } finally {
    conn.close();
  }
}

async function huntNpm(extra: string[]): Promise<Record<string, unknown>[]> {
  const run = await runCli([
    'hunt',
    '--ecosystem',
    'npm',
    '--registry',
    registry,
    '--db',
    db,
    '--workers',
    '2',
    '--timeout',
    '120',
    '--tracer',
    'strace',
    '--json',
    ...extra,
  ]);
  assert.equal(run.code, 0, `hunt exited ${run.code}: ${run.stderr}${run.stdout.slice(-3000)}`);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const started = (events: Record<string, unknown>[]): string[] =>
  events
    .filter((e) => e.type === 'job-start')
    .map((e) => String(e.project))
    .sort();

describe('hunt --ecosystem npm (real sandbox, strace, a local directory registry)', () => {
  before(async () => {
    await buildNpmRegistry(registry);
    // An npm package with the name of a PyPI demo project: the two must never collide.
    await publishNpmPackage(registry, join(NPM_FIXTURES_DIR, 'ph-npm-util'), { name: 'ph-demo-pure' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--from: the named packages are analysed, one the registry lacks is recorded with its reason', async () => {
    const list = join(dir, 'list.txt');
    writeFileSync(list, '# watchlist\nph-npm-tokensteal\nph-npm-pure\nph-npm-missing\n');
    const events = await huntNpm(['--from', list]);
    assert.deepEqual(started(events), ['ph-npm-pure', 'ph-npm-tokensteal']);
    assert.deepEqual(results(), [
      { ecosystem: 'npm', project: 'ph-npm-pure', version: '1.0.0', level: 'clean' },
      { ecosystem: 'npm', project: 'ph-npm-tokensteal', version: '1.0.0', level: 'malicious' },
    ]);
    assert.match(noRelease('ph-npm-missing') ?? '', /Cannot find package ph-npm-missing/);
    const summary = events.at(-1) as { type: string; counts: { done: number; failed: number } };
    assert.equal(summary.type, 'summary');
    assert.deepEqual([summary.counts.done, summary.counts.failed], [2, 0]);
  });

  test('resume: the same hunt again analyses nothing', async () => {
    const list = join(dir, 'list.txt');
    const events = await huntNpm(['--from', list]);
    assert.deepEqual(started(events), []);
    assert.equal(results().length, 2);
  });

  test('index sync lists the directory registry; a --match hunt analyses the rest, finished ones skipped', async () => {
    const sync = await runCli([
      'index',
      'sync',
      '--ecosystem',
      'npm',
      '--registry',
      registry,
      '--db',
      db,
      '--json',
    ]);
    assert.equal(sync.code, 0, sync.stderr);
    const summary = JSON.parse(sync.stdout) as { projects: number; format: string; ecosystem: string };
    assert.deepEqual([summary.projects, summary.format, summary.ecosystem], [6, 'directory', 'npm']);
    const events = await huntNpm(['--match', 'ph-*']);
    assert.deepEqual(started(events), ['ph-demo-pure', 'ph-npm-dropper', 'ph-npm-native', 'ph-npm-util']);
    const levels = new Map(results().map((r) => [r.project, r.level]));
    assert.equal(levels.get('ph-npm-tokensteal'), 'malicious');
    assert.ok(
      ['suspicious', 'malicious'].includes(levels.get('ph-npm-dropper') ?? ''),
      'the dropper is flagged',
    );
    for (const clean of ['ph-npm-pure', 'ph-npm-util', 'ph-npm-native', 'ph-demo-pure'])
      assert.equal(levels.get(clean), 'clean', clean);
    assert.ok(results().every((r) => r.ecosystem === 'npm'));
    assert.equal(results().length, 6, 'each package once');
  });

  test('a PyPI project of the same name coexists; show, query and export tell them apart', async () => {
    const names = join(dir, 'pypi.txt');
    writeFileSync(names, 'ph-demo-pure\n');
    const pypi = await runCli([
      'hunt',
      '--db',
      db,
      '--index-url',
      DEMO_INDEX_URL,
      '--from',
      names,
      '--phases',
      'install',
      '--timeout',
      '120',
      '--tracer',
      'strace',
      '--json',
    ]);
    assert.equal(pypi.code, 0, pypi.stderr + pypi.stdout.slice(-2000));
    const both = results().filter((r) => r.project === 'ph-demo-pure');
    assert.deepEqual(
      both.map((r) => r.ecosystem),
      ['npm', 'pypi'],
    );

    const showPypi = await runCli(['show', 'ph-demo-pure', '--db', db, '--json']);
    assert.equal(showPypi.code, 0, showPypi.stderr);
    assert.equal(BehaviourRecord.parse(JSON.parse(showPypi.stdout)).package.ecosystem, 'pypi');
    const showNpm = await runCli(['show', 'npm:ph-demo-pure@1.0.0', '--db', db, '--json']);
    assert.equal(showNpm.code, 0, showNpm.stderr);
    assert.equal(BehaviourRecord.parse(JSON.parse(showNpm.stdout)).package.ecosystem, 'npm');
    const hinted = await runCli(['show', 'ph-npm-util', '--db', db, '--json']);
    assert.equal(hinted.code, 1);
    assert.match(JSON.parse(hinted.stdout).error.hint, /pkghunt show npm:ph-npm-util/);

    const suspicious = await runCli(['query', 'suspicious', '--ecosystem', 'npm', '--db', db, '--json']);
    const flagged = (JSON.parse(suspicious.stdout) as { ecosystem: string; project: string }[]).map(
      (r) => `${r.ecosystem}:${r.project}`,
    );
    assert.ok(
      flagged.includes('npm:ph-npm-tokensteal') && flagged.includes('npm:ph-npm-dropper'),
      flagged.join(),
    );
    const pypiOnly = await runCli(['query', 'outcomes', '--ecosystem', 'pypi', '--db', db, '--json']);
    assert.deepEqual(
      (JSON.parse(pypiOnly.stdout) as { packages: number }[]).reduce((n, r) => n + r.packages, 0),
      1,
    );
    const exported = await runCli(['export', '--ecosystem', 'npm', '--db', db]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trim().split('\n').length, 6);
  });

  test('an http registry: the search endpoint is paged through; without search, a clear error', async () => {
    const server = await startNpmRegistryServer(registry, { search: true, maxPageSize: 2 });
    const bare = await startNpmRegistryServer(registry);
    try {
      const syncDb = join(dir, 'sync.db');
      const listed = await runCli([
        'index',
        'sync',
        '--ecosystem',
        'npm',
        '--registry',
        server.url,
        '--search',
        'ph-npm',
        '--db',
        syncDb,
        '--json',
      ]);
      assert.equal(listed.code, 0, listed.stderr + listed.stdout);
      assert.deepEqual(
        (({ projects, total, format }) => ({ projects, total, format }))(JSON.parse(listed.stdout)),
        { projects: 5, total: 5, format: 'search' },
      );
      assert.equal(server.requests.filter((r) => r.startsWith('/-/v1/search')).length, 3, 'pages of 2');
      const unsupported = await runCli([
        'index',
        'sync',
        '--ecosystem',
        'npm',
        '--registry',
        bare.url,
        '--search',
        'ph',
        '--db',
        syncDb,
        '--json',
      ]);
      assert.equal(unsupported.code, 1);
      assert.equal(JSON.parse(unsupported.stdout).error.code, 'LISTING_UNSUPPORTED');
      const noText = await runCli([
        'hunt',
        '--ecosystem',
        'npm',
        '--registry',
        bare.url,
        '--db',
        join(dir, 'e.db'),
        '--json',
      ]);
      assert.equal(
        JSON.parse(noText.stdout.trim().split('\n').at(-1) ?? '{}').error.code,
        'LISTING_UNSUPPORTED',
      );
      const mixed = await runCli([
        'hunt',
        '--ecosystem',
        'npm',
        '--index-url',
        DEMO_INDEX_URL,
        '--db',
        syncDb,
        '--json',
      ]);
      assert.equal(mixed.code, 2);
    } finally {
      await server.close();
      await bare.close();
    }
  });
});
