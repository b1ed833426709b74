import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
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
