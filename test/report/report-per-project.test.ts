import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { saveThroughQueue } from '../../src/app/diff-versions.ts';
import { studyReport } from '../../src/app/study-report.ts';
import type { Attribution } from '../../src/core/record/schema.ts';
import { runCli } from '../helpers/run-cli.ts';
import { makeRecord } from '../store/make-record.ts';

const OWN: Attribution[] = [{ kind: 'package', distribution: 'alpha', method: 'process-tree' }];
const DEP: Attribution[] = [{ kind: 'dependency', distribution: 'evil-dep', method: 'process-tree' }];

function connection(host: string, by: Attribution[]) {
  return {
    protocol: 'tcp' as const,
    ip: '127.53.0.1',
    port: 443,
    hostname: host,
    sent_bytes: 0,
    sent_preview: '',
    http: null,
    tls_sni: null,
    time: 0,
    pids: [5],
    by,
  };
}

test('report counts each project once, at its latest analysed release, raw and own; the header says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-report-test-'));
  const db = join(dir, 'store.db');
  const store = openSqliteStore(db);
  try {
    await store.migrate();
    // alpha 1.0 connected out on its own; its latest release, 2.0, only through a dependency.
    const records = [
      makeRecord('alpha', '1.0', { connections: [connection('old.example', OWN)] }),
      makeRecord('alpha', '2.0', { connections: [connection('dep.example', DEP)] }),
      makeRecord('alpha', '1.5', { connections: [connection('mid.example', OWN)] }),
      makeRecord('beta', '3.0'),
    ];
    for (const r of records) await saveThroughQueue(store, r.package.name, r.package.version ?? '', r);

    const report = await studyReport(store, { top: 10 });
    assert.equal(report.packages, 2, 'two projects, not four releases');
    assert.deepEqual(report.connected_during_install.packages, { raw: 1, own: 0 });
    assert.deepEqual(
      report.hosts.rows.map((r) => [r.key, r.packages, r.packages_own]),
      [['dep.example', 1, 0]],
    );
    assert.deepEqual(
      report.connected_during_install.list.map((c) => [c.package, c.version]),
      [['alpha', '2.0']],
    );
  } finally {
    await store.close();
  }
  try {
    const cli = await runCli(['report', '--db', db]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /per project \(its latest analysed release\), raw and own/);
    assert.match(cli.stdout, /analysed projects \(latest analysed release of each\)\s*\|?\s*2/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
