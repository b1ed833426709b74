import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import { PopularListFile } from '../../src/core/eval/popular-list.ts';
import { conn, testRecord } from '../../src/core/population/_test-records.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

// A stealer that sent the CI token out during install, and one that did nothing observable.
const thief = testRecord('ph-eval-thief', '1.0', {
  install: {
    connections: [conn('x.oast.fun', '10.0.0.5', 443)],
    canaries: [{ canary: 'CI_JOB_TOKEN', how: 'sent', evidence: 'sent to x.oast.fun:443' }],
  },
});
const quiet = testRecord('ph-eval-quiet', '1.0', { install: {}, import: {} });
// Two benign demo packages and one look-alike of a real dropper, all "popular" for the test.
const POPULAR = ['ph-demo-pure', 'ph-demo-cext', 'ph-demo-gist-dropper'];

test('the committed popular list parses and holds 500 projects with their source', async () => {
  const list = PopularListFile.parse(
    JSON.parse(await readFile(join(PROJECT_ROOT, 'data/popular-pypi.json'), 'utf8')),
  );
  assert.equal(list.rows.length, 500);
  assert.equal(list.count, 500);
  assert.equal(list.source.repository, 'hugovk/top-pypi-packages');
  const counts = list.rows.map((r) => r.download_count);
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => b - a),
  );
});

test('pkghunt eval scores sample records and a hunted popular store', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-evaltest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const samples = join(dir, 'samples');
  await mkdir(samples);
  await writeFile(join(samples, 'ph-eval-thief-1.0.json'), JSON.stringify(thief));
  await writeFile(join(samples, 'ph-eval-quiet-1.0.json'), JSON.stringify(quiet));
  const list = {
    date: '2026-01-01',
    source: { repository: 'test', file: 'test', last_update: '2026-01-01', window_days: 30 },
    count: POPULAR.length,
    rows: POPULAR.map((project, i) => ({ project, download_count: 100 - i })),
  };
  const listFile = join(dir, 'popular.json');
  await writeFile(listFile, JSON.stringify(list));
  const db = join(dir, 'popular.db');
  const names = join(dir, 'names.txt');

  const seed = await runCli([
    'eval',
    '--seed-popular',
    names,
    '--popular-db',
    db,
    '--popular-list',
    listFile,
  ]);
  assert.equal(seed.code, 0, seed.stderr);
  assert.equal((await readFile(names, 'utf8')).trim().split('\n').length, 3);
  const hunt = await runCli(
    [
      'hunt',
      '--index-url',
      DEMO_INDEX_URL,
      '--db',
      db,
      '--from',
      names,
      '--workers',
      '1',
      '--max-attempts',
      '1',
      '--json',
    ],
    { timeoutMs: 900_000 },
  );
  assert.equal(hunt.code, 0, hunt.stderr);

  const args = ['eval', '--samples', samples, '--popular-db', db, '--popular-list', listFile];
  const json = await runCli([...args, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  assert.equal(report.recall.samples, 2);
  assert.deepEqual(report.recall.at.malicious.overall, { hits: 1, total: 2, rate: 0.5 });
  assert.deepEqual(
    report.recall.at.suspicious.misses.map((m: { name: string; reason: string }) => [m.name, m.reason]),
    [['ph-eval-quiet', 'not_detected']],
  );
  assert.equal(report.falsePositives.listed, 3);
  assert.equal(report.falsePositives.analysed, 3);
  assert.equal(report.falsePositives.installed, 3);
  // The dropper look-alike is flagged; the two benign packages are not.
  assert.deepEqual(report.falsePositives.at.malicious, { hits: 1, total: 3, rate: 1 / 3 });
  assert.deepEqual(
    report.falsePositives.falsePositives.map((p: { name: string }) => p.name),
    ['ph-demo-gist-dropper'],
  );

  const md = join(dir, 'eval.md');
  const text = await runCli([...args, '--markdown', md]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /\| whole set \(static included\) \| 50\.0% \(1\/2\) \|/);
  assert.match(text.stdout, /\| malicious \| 33\.3% \(1\/3\) \|/);
  assert.match(text.stdout, /- ph-eval-quiet 1\.0: not detected/);
  assert.equal(await readFile(md, 'utf8'), text.stdout);
});
