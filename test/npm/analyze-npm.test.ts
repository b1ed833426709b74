import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildNpmRegistry } from '../../demo/build-npm-registry.ts';
import { BehaviourRecord, type Phase } from '../../src/core/record/schema.ts';
import { snapshotHost } from '../helpers/leftovers.ts';
import { runCli } from '../helpers/run-cli.ts';

const registry = mkdtempSync(join(tmpdir(), 'pkghunt-npm-registry-'));
let tarballs: Map<string, string>;
/** Run ids of this file's analyses: other sessions may run sandboxes on the same host meanwhile. */
const runIds: string[] = [];

async function analyzeNpm(spec: string, expectedCode: 0 | 3): Promise<BehaviourRecord> {
  const result = await runCli([
    'analyze',
    spec,
    '--registry',
    registry,
    '--json',
    '--progress',
    'none',
    '--timeout',
    '120',
  ]);
  assert.equal(
    result.code,
    expectedCode,
    `analyze ${spec} exited ${result.code}: ${result.stderr}${result.stdout.slice(0, 3000)}`,
  );
  const record = BehaviourRecord.parse(JSON.parse(result.stdout));
  assert.equal(record.package.ecosystem, 'npm');
  runIds.push(record.run_id);
  return record;
}

function install(record: BehaviourRecord): Phase {
  assert.ok(record.phases.install, 'the record has an install phase');
  return record.phases.install;
}

/** Everything not done by npm itself (kind `pip` is the record's name for the installer). */
function notInstaller<T extends { by?: { kind: string } | { kind: string }[] | undefined }>(
  items: readonly T[],
): T[] {
  return items.filter((x) => {
    const by = x.by === undefined ? [] : Array.isArray(x.by) ? x.by : [x.by];
    return !by.every((b) => b.kind === 'pip');
  });
}

describe('analyze npm: (real sandbox, strace, sinkhole, local directory registry)', () => {
  before(async () => {
    const built = await buildNpmRegistry(registry);
    tarballs = new Map(built.map((p) => [p.name, p.tarball]));
  });
  after(() => rmSync(registry, { recursive: true, force: true }));

  test('a benign pure package: no network, nothing beyond npm, require and import each succeed', async () => {
    const record = await analyzeNpm('npm:ph-npm-pure', 0);
    const phase = install(record);
    assert.equal(phase.status, 'completed');
    assert.deepEqual(phase.connections, []);
    assert.deepEqual(phase.dns, []);
    assert.deepEqual(
      notInstaller(phase.commands).map((c) => c.argv.join(' ')),
      [],
    );
    assert.deepEqual(
      notInstaller(phase.files).map((f) => f.path),
      [],
    );
    assert.equal(record.verdict?.level, 'clean');
    assert.equal(record.package.version, '1.0.0');
    assert.equal(record.package.artifact?.filename, 'ph-npm-pure-1.0.0.tgz');
    assert.deepEqual(record.dependencies, [
      { name: 'ph-npm-util', version: '1.0.0', kind: 'dependency', artifact: 'tarball' },
    ]);
    assert.ok(
      record.index_requests.some((r) => r.path === '/ph-npm-pure' && r.status === 200),
      'npm asked the proxy',
    );
    assert.ok(
      record.index_requests.some((r) => r.path.endsWith('/ph-npm-util-1.0.0.tgz') && r.status === 200),
    );
    const imported = record.phases.import;
    assert.ok(imported);
    assert.deepEqual(
      imported.modules.map((m) => [m.module, m.status]),
      [
        ['require("ph-npm-pure")', 'ok'],
        ['import("ph-npm-pure")', 'ok'],
      ],
    );
    assert.deepEqual(imported.connections, []);
  });

  test("a benign native build (cc at install): the compiler is the package's, no network, clean", async () => {
    const record = await analyzeNpm('npm:ph-npm-native@1.0.0', 0);
    const phase = install(record);
    assert.equal(phase.status, 'completed');
    assert.deepEqual(phase.connections, []);
    const cc = phase.commands.find((c) => c.argv[0] === 'cc');
    assert.ok(cc, 'the install script ran cc');
    assert.deepEqual(cc.by, { kind: 'package', distribution: 'ph-npm-native', method: 'process-tree' });
    assert.equal(record.verdict?.level, 'clean');
  });

  test('a postinstall that sends ~/.npmrc out: connection, canary sent, malicious (exit 3)', async () => {
    const record = await analyzeNpm('npm:ph-npm-tokensteal', 3);
    const phase = install(record);
    const connection = phase.connections.find((c) => c.hostname === 'telemetry.npm-stats.example');
    assert.ok(connection, 'the connection reached the sinkhole');
    assert.equal(connection.by?.[0]?.kind, 'package');
    const sent = phase.canaries.find((h) => h.canary === 'npmrc' && h.how === 'sent');
    assert.ok(sent, 'the ~/.npmrc token is in the bytes sent');
    assert.deepEqual(
      sent.by?.map((b) => b.distribution),
      ['ph-npm-tokensteal'],
    );
    const script = phase.commands.find((c) => c.argv.join(' ') === 'sh -c node collect.js');
    assert.equal(script?.by?.method, 'script-cwd');
    assert.equal(record.verdict?.level, 'malicious');
    const rules = record.verdict?.findings.map((f) => f.rule) ?? [];
    assert.ok(rules.includes('canary.exfil') && rules.includes('npm.npmrc-read'), rules.join(', '));
  });

  test('a local tarball with a download-and-run preinstall: the fetch, the rule, malicious (exit 3)', async () => {
    const tarball = tarballs.get('ph-npm-dropper');
    assert.ok(tarball);
    const record = await analyzeNpm(`npm:${tarball}`, 3);
    assert.equal(record.package.source, 'local');
    const phase = install(record);
    assert.ok(phase.dns.some((q) => q.name === 'cdn.payload-host.example'));
    assert.ok(phase.connections.some((c) => c.http?.path === '/i.sh'));
    const rules = record.verdict?.findings.map((f) => f.rule) ?? [];
    assert.ok(rules.includes('npm.install-script-fetch-exec'), rules.join(', '));
    assert.ok(rules.includes('npm.static.install-script'), rules.join(', '));
    assert.equal(record.verdict?.level, 'malicious');
  });

  test('clear errors: bad name, missing version, registry down', async () => {
    const bad = await runCli(['analyze', 'npm:Bad Name;rm', '--registry', registry, '--json']);
    assert.equal(bad.code, 2);
    assert.equal(JSON.parse(bad.stdout).error.code, 'INVALID_PACKAGE_SPEC');
    const missing = await runCli(['analyze', 'npm:ph-npm-pure@9.9.9', '--registry', registry, '--json']);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).error.code, 'PACKAGE_NOT_FOUND');
    assert.match(JSON.parse(missing.stdout).error.hint, /1\.0\.0/);
    // A loopback port that was just closed: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const down = await runCli([
      'analyze',
      'npm:ph-npm-pure',
      '--registry',
      `http://127.0.0.1:${port}/`,
      '--json',
    ]);
    assert.equal(down.code, 1);
    assert.equal(JSON.parse(down.stdout).error.code, 'INDEX_UNREACHABLE');
  });

  test('nothing of these analyses is left on the host (namespaces, mounts, cgroups, run dirs)', () => {
    assert.equal(runIds.length, 4);
    const host = snapshotHost();
    const left = [...host.netns, ...host.mounts, ...host.cgroups, ...host.runDirs].filter((entry) =>
      runIds.some((id) => entry.includes(id)),
    );
    assert.deepEqual(left, []);
  });
});
