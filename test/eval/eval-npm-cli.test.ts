import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import { PopularNpmListFile } from '../../src/core/eval/popular-npm-list.ts';
import { conn, testRecord } from '../../src/core/population/_test-records.ts';
import type { BehaviourRecord } from '../../src/core/record/schema.ts';
import { runCli } from '../helpers/run-cli.ts';

function npmRecord(name: string, phases: Parameters<typeof testRecord>[2]): BehaviourRecord {
  const record = testRecord(name, '1.0.0', phases);
  return { ...record, package: { ...record.package, ecosystem: 'npm', requested: `npm:${name}` } };
}

test('the committed npm list parses and holds the 500 most depended-upon packages in rank order', async () => {
  const text = await readFile(join(PROJECT_ROOT, 'data/popular-npm.json'), 'utf8');
  const list = PopularNpmListFile.parse(JSON.parse(text));
  assert.equal(list.count, 500);
  assert.equal(list.rows.length, 500);
  assert.deepEqual(
    list.rows.map((r) => r.rank),
    list.rows.map((_, i) => i + 1),
  );
  assert.equal(new Set(list.rows.map((r) => r.name)).size, 500);
  assert.equal(list.source.repository, 'wooorm/npm-high-impact');
  assert.match(list.source.commit, /^[0-9a-f]{40}$/);
  assert.deepEqual(
    list.rows.slice(0, 3).map((r) => r.name),
    ['typescript', 'eslint', 'react'],
  );
});

test('pkghunt eval --npm-records scores the kept npm records and counts failures apart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-evalnpm-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const names = ['ph-quiet', '@ph/thief', 'ph-broken', 'ph-failed', 'ph-later'];
  const list = {
    date: '2026-01-01',
    source: { repository: 'test', file: 'test', commit: 'c', last_update: '2026-01-01', ranking: 'test' },
    count: names.length,
    rows: names.map((name, i) => ({ rank: i + 1, name })),
  };
  const listFile = join(dir, 'popular-npm.json');
  await writeFile(listFile, JSON.stringify(list));
  const runs = join(dir, 'run');
  await mkdir(join(runs, 'records'), { recursive: true });
  await mkdir(join(runs, 'failed'));
  await writeFile(
    join(runs, 'records', 'ph-quiet.json'),
    JSON.stringify(npmRecord('ph-quiet', { install: {}, import: {} })),
  );
  // A scoped package (file name @ph__thief.json) that sent the CI token out while installing.
  const thief = npmRecord('@ph/thief', {
    install: {
      connections: [conn('x.oast.fun', '10.0.0.5', 443)],
      canaries: [{ canary: 'CI_JOB_TOKEN', how: 'sent', evidence: 'sent to x.oast.fun:443' }],
    },
  });
  await writeFile(join(runs, 'records', '@ph__thief.json'), JSON.stringify(thief));
  const broken = npmRecord('ph-broken', {
    install: { status: 'failed', exit_code: 1, reason: 'npm install exited with 1: gyp ERR! build error' },
  });
  await writeFile(join(runs, 'records', 'ph-broken.json'), JSON.stringify(broken));
  await writeFile(
    join(runs, 'failed', 'ph-failed.json'),
    JSON.stringify({
      name: 'ph-failed',
      exit: 1,
      reason: 'PACKAGE_NOT_FOUND: no version',
      error: { code: 'PACKAGE_NOT_FOUND', message: 'no version' },
    }),
  );

  const args = ['eval', '--npm-records', runs, '--popular-list', listFile];
  const json = await runCli([...args, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  const fp = report.falsePositives;
  assert.equal(fp.listed, 5);
  assert.equal(fp.analysed, 3);
  assert.equal(fp.installed, 2);
  assert.deepEqual(fp.at.malicious, { hits: 1, total: 2, rate: 0.5 });
  assert.deepEqual(
    fp.falsePositives.map((p: { name: string; fired: { rule: string }[] }) => p.name),
    ['@ph/thief'],
  );
  assert.ok(fp.falsePositives[0].fired.some((r: { rule: string }) => r.rule.startsWith('canary.')));
  assert.deepEqual(
    fp.installFailed.map((p: { name: string; reason: string }) => [p.name, p.reason]),
    [['ph-broken', 'npm install exited with 1: gyp ERR! build error']],
  );
  assert.deepEqual(fp.failed, [
    { name: 'ph-failed', version: null, reason: 'PACKAGE_NOT_FOUND: no version' },
  ]);
  assert.deepEqual(
    fp.notAnalysed.map((p: { name: string }) => p.name),
    ['ph-later'],
  );

  const md = join(dir, 'eval.md');
  const text = await runCli([...args, '--markdown', md]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^## npm false positives\n/);
  assert.match(text.stdout, /\*\*Partial\*\*: 4 of 5 packages done/);
  assert.match(text.stdout, /\| malicious \| 50\.0% \(1\/2\) \|/);
  assert.match(text.stdout, /- \*\*@ph\/thief 1\.0\.0\*\*: malicious/);
  assert.match(text.stdout, /- ph-failed: PACKAGE_NOT_FOUND: no version/);
  assert.equal(await readFile(md, 'utf8'), text.stdout);

  // A record under the wrong file name is refused, not silently counted for another package.
  await writeFile(join(runs, 'records', 'ph-later.json'), JSON.stringify(thief));
  const wrong = await runCli([...args, '--json']);
  assert.equal(wrong.code, 1);
  assert.equal(JSON.parse(wrong.stdout).error.code, 'EVAL_INPUT_INVALID');
});
