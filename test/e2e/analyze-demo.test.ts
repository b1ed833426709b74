import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBuildOwnCommand } from '../../src/core/behaviour/build-own-commands.ts';
import { isBuildOwnFile } from '../../src/core/behaviour/build-own-files.ts';
import type { BehaviourRecord, Phase } from '../../src/core/record/schema.ts';
import { analyzeDemo } from '../helpers/analyze-demo.ts';
import { newLeftovers, snapshotHost } from '../helpers/leftovers.ts';

function install(record: BehaviourRecord): Phase {
  const phase = record.phases.install;
  assert.ok(phase, 'the record has an install phase');
  return phase;
}

function commandLines(phase: Phase): string[] {
  return phase.commands.map((c) => c.argv.join(' '));
}

describe('analyze on the demo index (real sandbox, strace, sinkhole, local index)', () => {
  const before = snapshotHost();

  test('a benign pure-Python package: no network, no commands beyond the build, module imports', async () => {
    const record = await analyzeDemo('ph-demo-pure');
    const phase = install(record);
    assert.equal(phase.status, 'completed');
    assert.equal(phase.exit_code, 0);
    assert.deepEqual(phase.connections, []);
    assert.deepEqual(phase.dns, []);
    assert.deepEqual(phase.canaries, []);
    assert.deepEqual(
      phase.commands.filter((c) => !isBuildOwnCommand(c.argv)).map((c) => c.argv.join(' ')),
      [],
    );
    assert.ok(phase.commands.length > 0, 'pip and its build hooks were traced');
    const written = phase.files.filter((f) => !isBuildOwnFile(f.path) && f.ops.some((op) => op !== 'read'));
    assert.deepEqual(
      written.map((f) => f.path),
      [],
    );
    assert.equal(record.package.artifact?.filename, 'ph_demo_pure-1.0.0.tar.gz');
    assert.match(record.package.artifact?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok(
      record.index_requests.some((r) => r.path.includes('ph-demo-pure')),
      'pip asked the index proxy',
    );
    const imported = record.phases.import;
    assert.ok(imported);
    assert.deepEqual(
      imported.modules.map((m) => [m.module, m.status]),
      [['ph_demo_pure', 'ok']],
    );
    assert.deepEqual(imported.connections, []);
  });

  test('a benign C extension: its build runs the compiler and nothing reaches the network', async () => {
    const record = await analyzeDemo('ph-demo-cext');
    const phase = install(record);
    assert.equal(phase.status, 'completed');
    assert.ok(
      commandLines(phase).some((c) => /gcc/.test(c)),
      'gcc ran',
    );
    assert.deepEqual(phase.connections, []);
    assert.deepEqual(phase.dns, []);
    assert.deepEqual(
      record.phases.import?.modules.map((m) => m.status),
      ['ok'],
    );
  });

  test('the gist dropper: download, write /tmp/malicious.py, run it, marker file', async () => {
    const phase = install(await analyzeDemo('ph-demo-gist-dropper'));
    assert.ok(
      phase.dns.some((d) => d.name === 'gist.githubusercontent.com'),
      'DNS lookup of the gist host',
    );
    const fetch = phase.connections.find((c) => c.hostname === 'gist.githubusercontent.com');
    assert.ok(fetch, 'connection to the gist host');
    assert.equal(fetch.port, 80);
    assert.equal(fetch.http?.method, 'GET');
    assert.match(fetch.http?.path ?? '', /malicious\.py$/);
    const dropped = phase.files.find((f) => f.path === '/tmp/malicious.py');
    assert.ok(dropped?.ops.includes('write'), '/tmp/malicious.py written');
    assert.ok(
      commandLines(phase).some((c) => c.endsWith('/tmp/malicious.py')),
      'python /tmp/malicious.py executed',
    );
    assert.ok(phase.files.some((f) => f.path === '/tmp/malicious-was-here' && f.ops.includes('write')));
  });

  test('the CI exfiltration: DNS name, connection to port 5566, and the canary token bytes sent', async () => {
    const record = await analyzeDemo('ph-demo-ci-exfil');
    const phase = install(record);
    const host = 'ci-collector.exfil-demo.example';
    assert.ok(
      phase.dns.some((d) => d.name === host),
      'DNS lookup of the collector',
    );
    const exfil = phase.connections.find((c) => c.port === 5566);
    assert.ok(exfil, 'connection to port 5566');
    assert.equal(exfil.hostname, host);
    assert.ok(
      exfil.sent_preview.includes(record.sandbox.canary_token),
      'the canary token was captured in the sent bytes',
    );
    assert.ok(phase.canaries.some((c) => c.canary === 'git-config-ci-token' && c.how === 'sent'));
    assert.ok(phase.canaries.some((c) => c.canary === 'git-config-ci-token' && c.how === 'read'));
    const lines = commandLines(phase);
    assert.ok(lines.some((c) => c.startsWith('grep ci-token .git/config')));
    assert.ok(lines.some((c) => c.startsWith('nc ') && c.includes(host) && c.includes('5566')));
    assert.deepEqual(
      record.phases.import?.modules.map((m) => m.status),
      ['ok'],
      'the package still installs and imports',
    );
  });

  test('the obfuscated setup.py: the commands it really runs are recorded', async () => {
    const phase = install(await analyzeDemo('ph-demo-obfuscated'));
    const names = phase.commands.map((c) => c.exe.split('/').pop());
    for (const expected of ['whoami', 'id', 'uname'])
      assert.ok(names.includes(expected), `${expected} executed`);
    assert.ok(phase.files.some((f) => f.path === '/etc/passwd' && f.ops.includes('read')));
    assert.ok(phase.files.some((f) => f.path === '/tmp/.cache-x' && f.ops.includes('write')));
  });

  test('nothing is left behind on the host', async () => {
    assert.deepEqual(await newLeftovers(before), []);
  });
});
