import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.ts';
import type { BehaviourRecord, Phase } from '../../src/core/record/schema.ts';
import { analyzeDemo } from '../helpers/analyze-demo.ts';
import { newLeftovers, snapshotHost } from '../helpers/leftovers.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

const SMALL = ['--memory', '256', '--pids', '64', '--disk', '64'];

async function analyzeFixture(
  name: string,
  extra: string[] = [],
): Promise<{ record: BehaviourRecord; install: Phase }> {
  const record = await analyzeDemo(name, ['--phases', 'install', ...extra]);
  const install = record.phases.install;
  assert.ok(install);
  return { record, install };
}

describe('hostile packages are contained and recorded, and leave nothing behind', () => {
  const hostSecret = '/root/.pkghunt-host-secret';
  const projectSecret = join(PROJECT_ROOT, '.cache', 'pkghunt-project-secret');
  let baseline = snapshotHost();

  before(() => {
    writeFileSync(hostSecret, 'HOST-SECRET-must-not-leak\n');
    mkdirSync(join(PROJECT_ROOT, '.cache'), { recursive: true });
    writeFileSync(projectSecret, 'PROJECT-SECRET-must-not-leak\n');
    baseline = snapshotHost();
  });
  after(() => {
    rmSync(hostSecret, { force: true });
    rmSync(projectSecret, { force: true });
  });

  test('fork bomb: stopped by the process limit', async () => {
    const { install } = await analyzeFixture('ph-test-forkbomb', [...SMALL, '--timeout', '60']);
    assert.ok(install.limits_hit.includes('pids'), `limits hit: ${install.limits_hit.join(',')}`);
  });

  test('memory bomb: killed by the memory limit', async () => {
    const { install } = await analyzeFixture('ph-test-membomb', [...SMALL, '--timeout', '60']);
    assert.ok(install.limits_hit.includes('memory'), `limits hit: ${install.limits_hit.join(',')}`);
    assert.notEqual(install.status, 'completed');
  });

  test('disk filler: stopped by the size of the sandbox file system', async () => {
    const { install } = await analyzeFixture('ph-test-diskfill', [...SMALL, '--timeout', '60']);
    assert.ok(install.limits_hit.includes('disk'), `limits hit: ${install.limits_hit.join(',')}`);
  });

  test('sleeper: ends in timeout', async () => {
    const { install } = await analyzeFixture('ph-test-sleeper', ['--timeout', '8']);
    assert.equal(install.status, 'timeout');
    assert.ok(install.limits_hit.includes('timeout'));
    assert.ok(install.duration_ms < 30_000);
  });

  test('daemon that outlives pip: found, killed, recorded', async () => {
    const { install } = await analyzeFixture('ph-test-daemon', ['--timeout', '60']);
    assert.equal(install.status, 'completed');
    assert.ok(install.survivors.length >= 1, 'a survivor is recorded');
    assert.ok(install.survivors.every((s) => s.killed));
  });

  test("host files: the host's home and the project are not visible", async () => {
    const { install } = await analyzeFixture('ph-test-hostread', ['--timeout', '60']);
    assert.ok(!install.stdout_tail.includes('HOST-SECRET'));
    assert.ok(!install.stdout_tail.includes('PROJECT-SECRET'));
    assert.ok(!install.stderr_tail.includes('HOST-SECRET'));
    const attempts = install.files.filter((f) => f.path === hostSecret);
    assert.ok(
      attempts.every((f) => f.failed === f.count),
      'every attempt to open the host secret failed',
    );
  });

  test('a connection to a public IP lands in the sinkhole', async () => {
    const { install } = await analyzeFixture('ph-test-public-ip', ['--timeout', '60']);
    const probe = install.connections.find((c) => c.ip === '1.1.1.1' && c.port === 443);
    assert.ok(probe, `connections: ${JSON.stringify(install.connections.map((c) => `${c.ip}:${c.port}`))}`);
    assert.ok(probe.sent_preview.includes('PKGHUNT-PUBLIC-IP-PROBE'));
  });

  test('trying to kill the capture service: the capture still records', async () => {
    const { install } = await analyzeFixture('ph-test-kill-capture', ['--timeout', '60']);
    assert.ok(install.connections.length > 0, 'traffic after the kill attempts was captured');
    assert.ok(install.dns.length > 0);
  });

  test('output flood: capped', async () => {
    const { install } = await analyzeFixture('ph-test-printer', ['--timeout', '60']);
    assert.ok(install.stdout_tail.length <= 4096 + 64);
  });

  test('nothing is left behind on the host', async () => {
    assert.deepEqual(await newLeftovers(baseline), []);
  });
});
