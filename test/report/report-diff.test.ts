import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

/** Every stored record, as `export` gives them. */
async function exported(db: string): Promise<BehaviourRecord[]> {
  const result = await runCli(['export', '--db', db]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => BehaviourRecord.parse(JSON.parse(line)));
}

function dnsNames(record: BehaviourRecord): Set<string> {
  const names = new Set<string>();
  for (const phase of [record.phases.install, record.phases.import]) {
    for (const q of phase?.dns ?? []) names.add(q.name.toLowerCase().replace(/\.$/, ''));
  }
  return names;
}

test('report over a hunt of the demo index: numbers match the stored records; HTML is self-contained', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = join(dir, 'x.db');
  const hunt = await runCli([
    'hunt',
    '--db',
    db,
    '--index-url',
    DEMO_INDEX_URL,
    '--match',
    'ph-demo-*',
    '--workers',
    '2',
    '--timeout',
    '120',
    '--json',
  ]);
  assert.equal(hunt.code, 0, hunt.stderr);
  const records = await exported(db);
  assert.equal(records.length, 5);

  const html = join(dir, 'report.html');
  const result = await runCli(['report', '--db', db, '--json', '--top', '1000', '--html', html]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.packages, 5);

  const connected = records
    .filter((r) => (r.phases.install?.connections.length ?? 0) > 0)
    .map((r) => r.package.name)
    .sort();
  assert.ok(connected.includes('ph-demo-ci-exfil'), `connected: ${connected.join(', ')}`);
  assert.equal(report.connected_during_install.packages.raw, connected.length);
  assert.deepEqual(
    report.connected_during_install.list.map((c: { package: string }) => c.package).sort(),
    connected,
  );

  // Each DNS name is counted once per package that looked it up, whatever the number of queries.
  const perName = new Map<string, number>();
  for (const r of records) for (const name of dnsNames(r)) perName.set(name, (perName.get(name) ?? 0) + 1);
  const rows = new Map<string, number>(
    report.dns.rows.map((row: { key: string; packages: number }) => [row.key, row.packages]),
  );
  assert.deepEqual(rows, perName);
  assert.equal(rows.get('ci-collector.exfil-demo.example'), 1);
  assert.equal(report.dns.unique.raw, perName.size);

  const nc = report.commands.rows.find((row: { key: string }) => row.key.startsWith('nc '));
  assert.ok(nc !== undefined, 'the exfiltration command is among the commands');
  assert.ok(report.commands.packages.raw >= 1);

  // The suspicious packages are those whose stored verdict says so, best score first, with evidence.
  const flagged = records
    .filter((r) => r.verdict !== undefined && r.verdict.level !== 'clean')
    .sort((a, b) => (b.verdict?.score ?? 0) - (a.verdict?.score ?? 0));
  assert.equal(report.suspicious.packages, flagged.length);
  assert.deepEqual(
    report.suspicious.top.map((p: { score: number }) => p.score),
    flagged.map((r) => r.verdict?.score),
  );
  for (const p of report.suspicious.top) {
    assert.ok(p.findings.length > 0 && p.findings.every((f: { rule: string }) => f.rule !== ''));
  }

  const page = readFileSync(html, 'utf8');
  assert.match(page, /^<!DOCTYPE html>/);
  assert.match(page, /<svg/);
  assert.ok(page.includes('ci-collector.exfil-demo.example'));
  assert.ok(!/<script/i.test(page), 'no script');
  assert.ok(!/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.test(page), 'no external reference');
  assert.ok(!/@import|url\(/i.test(page), 'no stylesheet fetch');
});

test('diff shows the command a new version adds; hunt records it as diff_from_previous', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-diff-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = join(dir, 'x.db');
  const index = ['--index-url', DEMO_INDEX_URL, '--timeout', '120'];

  // Not in the store and --no-analyze: a typed failure, nothing analysed.
  const missing = await runCli([
    'diff',
    'ph-test-diff',
    '1.0.0',
    '2.0.0',
    '--db',
    db,
    '--no-analyze',
    '--json',
  ]);
  assert.equal(missing.code, 1);
  assert.equal(JSON.parse(missing.stdout).error.code, 'PACKAGE_NOT_FOUND');

  // Only 1.0.0 is analysed (and stored) here.
  const first = await runCli(['diff', 'ph-test-diff', '1.0.0', '1.0.0', '--db', db, '--json', ...index]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout).analysed, ['1.0.0']);

  // The hunt analyses the latest release, 2.0.0, and compares it with 1.0.0 before storing it.
  const hunt = await runCli(['hunt', '--db', db, '--match', 'ph-test-diff', '--json', ...index]);
  assert.equal(hunt.code, 0, hunt.stderr);
  const show = await runCli(['show', 'ph-test-diff==2.0.0', '--db', db, '--json']);
  assert.equal(show.code, 0, show.stderr);
  const record = BehaviourRecord.parse(JSON.parse(show.stdout));
  assert.equal(record.diff_from_previous?.version, '1.0.0');
  assert.ok(
    record.diff_from_previous?.new_commands.includes('id -un'),
    JSON.stringify(record.diff_from_previous),
  );

  // Both are stored now: no analysis, and the new command shows.
  const diff = await runCli(['diff', 'ph-test-diff', '1.0.0', '2.0.0', '--db', db, '--no-analyze', '--json']);
  assert.equal(diff.code, 0, diff.stderr);
  const parsed = JSON.parse(diff.stdout);
  assert.deepEqual(parsed.analysed, []);
  assert.ok(parsed.new.commands.some((c: { example: string }) => c.example === 'id -un'));
  assert.deepEqual(parsed.gone.commands, []);
  assert.deepEqual(parsed.new.hosts, []);

  const text = await runCli(['diff', 'ph-test-diff', '1.0.0', '2.0.0', '--db', db, '--no-analyze']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^ {4}\+ id -un \(by package ph-test-diff\)$/m);
});
