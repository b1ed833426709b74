import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
import { analyzeDemo } from '../helpers/analyze-demo.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

test('a local wheel whose import connects out: nothing at install, everything at import', async () => {
  const wheel = join(PROJECT_ROOT, '.cache/demo-index/files/ph_test_import_payload-1.0.0-py3-none-any.whl');
  const result = await runCli([
    'analyze',
    wheel,
    '--index-url',
    DEMO_INDEX_URL,
    '--json',
    '--progress',
    'none',
  ]);
  // 3: the verdict is suspicious or malicious (which one is checked in test/detect).
  assert.ok(result.code === 0 || result.code === 3, result.stderr);
  const record = BehaviourRecord.parse(JSON.parse(result.stdout));
  assert.equal(record.package.source, 'local');
  assert.equal(record.package.name, 'ph-test-import-payload');
  assert.equal(record.package.artifact?.filename, 'ph_test_import_payload-1.0.0-py3-none-any.whl');
  const install = record.phases.install;
  const imported = record.phases.import;
  assert.ok(install && imported);
  assert.equal(install.status, 'completed');
  assert.deepEqual(install.connections, [], 'a wheel runs no code at install');
  assert.deepEqual(
    imported.modules.map((m) => [m.module, m.status]),
    [['ph_test_import_payload', 'ok']],
  );
  const connection = imported.connections.find((c) => c.hostname === 'import-time.example');
  assert.ok(connection, 'the import-time connection is recorded in the import phase');
  assert.equal(connection.port, 8080);
  assert.ok(connection.sent_preview.includes('PKGHUNT-IMPORT-TIME'));
  assert.ok(imported.files.some((f) => f.path === '/tmp/import-ran' && f.ops.includes('write')));
});

test('one launch for both phases: split at the runner, not at a package that opens the same mark', async () => {
  const record = await analyzeDemo('ph-test-phase-mark');
  const install = record.phases.install;
  const imported = record.phases.import;
  assert.ok(install && imported);
  assert.equal(install.status, 'completed', install.reason ?? '');
  assert.equal(imported.status, 'completed', imported.reason ?? '');
  const argvs = (phase: typeof install) => phase.commands.map((c) => c.argv.join(' '));
  // The package's own open of the mark moved nothing: what it ran after it is install behaviour.
  assert.ok(argvs(install).includes('/bin/echo after-forged-mark'), argvs(install).join('\n'));
  assert.ok(!argvs(imported).includes('/bin/echo after-forged-mark'), argvs(imported).join('\n'));
  assert.ok(argvs(imported).includes('/bin/echo at-import'), argvs(imported).join('\n'));
  assert.ok(!argvs(install).includes('/bin/echo at-import'));
  // The install phase's daemon is its survivor, killed before the import phase started.
  assert.ok(
    install.survivors.some((s) => s.argv.join(' ') === 'sleep 600' && s.killed),
    JSON.stringify(install.survivors),
  );
  assert.ok(!imported.survivors.some((s) => s.argv.join(' ') === 'sleep 600'));
  // Each phase has its own output.
  assert.match(install.stdout_tail, /Successfully installed ph-test-phase-mark-1\.0\.0/);
  assert.doesNotMatch(install.stdout_tail, /IMPORT-SAYS-HELLO|at-import/);
  assert.match(imported.stdout_tail, /IMPORT-SAYS-HELLO/);
  assert.doesNotMatch(imported.stdout_tail, /Successfully installed/);
  assert.deepEqual(
    imported.modules.map((m) => [m.module, m.status]),
    [['ph_test_phase_mark', 'ok']],
  );
});
