import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { listPidsOfUid } from '../../src/adapters/sandbox/proc-scan.ts';
import { createSandbox, newCanaryToken } from '../../src/adapters/sandbox/sandbox.ts';
import { noTracer } from '../../src/adapters/tracer/tracer.ts';
import { SANDBOX_LAYOUT } from '../../src/core/sandbox/layout.ts';
import { buildWheel, SMALL_LIMITS, testId } from './helpers.ts';

const WHEEL = 'pkghunt_demo-0.1.0-py3-none-any.whl';

// Imported in the import phase: the second module leaves a double-forked daemon behind.
const FILES = {
  'pkghunt_demo/__init__.py': 'VALUE = 42\n',
  // The middle process waits until the daemon has exec'd sleep (its close-on-exec pipe end closes),
  // so the daemon is `sleep 3600` by the time the import ends, not a python between fork and exec.
  'pkghunt_demo_daemon.py': [
    'import os',
    'if os.fork() == 0:',
    '    os.setsid()',
    '    r, w = os.pipe()',
    '    if os.fork() == 0:',
    '        os.close(r)',
    '        os.execv("/bin/sleep", ["sleep", "3600"])',
    '    os.close(w)',
    '    os.read(r, 1)',
    '    os._exit(0)',
    'os.wait()',
    '',
  ].join('\n'),
  'pkghunt_demo_broken.py': 'raise RuntimeError("broken on purpose")\n',
};

test('install phase installs a local wheel, import phase imports it, a daemon is found and killed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-test-wheel-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const wheel = join(dir, WHEEL);
  await buildWheel(wheel, { name: 'pkghunt-demo', version: '0.1.0', files: FILES });
  const sb = await createSandbox({
    id: testId('phase'),
    limits: { ...SMALL_LIMITS, disk_mb: 256, memory_mb: 512 },
    canaryToken: newCanaryToken(),
    localArtifact: wheel,
  });
  try {
    const common = {
      netns: null,
      tracer: noTracer,
      traceFile: '/dev/null',
      timeoutMs: 60_000,
      indexUrl: 'http://127.0.0.1:9/simple/',
      target: `${SANDBOX_LAYOUT.artifactsDir}/${WHEEL}`,
      noIndex: true,
    };
    let streamed = '';
    const install = await sb.runPhase('install', {
      ...common,
      onOutput: (_stream, text) => (streamed += text),
    });
    assert.equal(install.status, 'completed', `${install.reason} ${install.stderrTail}`);
    assert.equal(install.exitCode, 0);
    assert.match(install.stdoutTail, /Successfully installed pkghunt-demo-0\.1\.0/);
    assert.match(streamed, /Successfully installed/);
    assert.deepEqual(install.distribution, {
      name: 'pkghunt-demo',
      version: '0.1.0',
      topLevel: ['pkghunt_demo', 'pkghunt_demo_broken', 'pkghunt_demo_daemon'],
    });
    assert.deepEqual(install.survivors, []);
    assert.ok(install.startedAt > 1.6e9 && install.startedAt < 1e10);

    const imported = await sb.runPhase('import', { ...common, distributionName: 'pkghunt-demo' });
    const byName = new Map(imported.modules.map((m) => [m.module, m]));
    assert.equal(byName.get('pkghunt_demo')?.status, 'ok');
    assert.equal(byName.get('pkghunt_demo_daemon')?.status, 'ok');
    assert.equal(byName.get('pkghunt_demo_broken')?.status, 'error');
    assert.match(byName.get('pkghunt_demo_broken')?.error ?? '', /RuntimeError: broken on purpose/);
    assert.equal(imported.status, 'failed');
    assert.match(imported.reason ?? '', /pkghunt_demo_broken/);
    const daemon = imported.survivors.find((s) => s.argv.join(' ') === 'sleep 3600');
    assert.ok(daemon, `survivors: ${JSON.stringify(imported.survivors)}`);
    assert.equal(daemon.killed, true);
    assert.deepEqual(await listPidsOfUid(sb.hostUid), []);
  } finally {
    await sb.destroy();
  }
});

/** A sandbox holding the `pkghunt-slow` wheel made of `source`, removed after the test. */
async function slowWheelSandbox(t: TestContext, label: string, source: string) {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-test-wheel-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const wheel = join(dir, 'pkghunt_slow-0.1.0-py3-none-any.whl');
  await buildWheel(wheel, { name: 'pkghunt-slow', version: '0.1.0', files: { 'pkghunt_slow.py': source } });
  const sb = await createSandbox({
    id: testId(label),
    limits: { ...SMALL_LIMITS, disk_mb: 256, memory_mb: 512 },
    canaryToken: newCanaryToken(),
    localArtifact: wheel,
  });
  t.after(() => sb.destroy());
  return {
    sb,
    common: {
      netns: null,
      tracer: noTracer,
      traceFile: '/dev/null',
      indexUrl: 'http://127.0.0.1:9/simple/',
      target: `${SANDBOX_LAYOUT.artifactsDir}/pkghunt_slow-0.1.0-py3-none-any.whl`,
      noIndex: true,
    },
  };
}

test('a phase past its deadline ends with status timeout', async (t) => {
  const { sb, common } = await slowWheelSandbox(t, 'slow', 'import time\ntime.sleep(60)\n');
  const install = await sb.runPhase('install', { ...common, timeoutMs: 60_000 });
  assert.equal(install.status, 'completed', `${install.reason} ${install.stderrTail}`);
  const started = Date.now();
  const imported = await sb.runPhase('import', { ...common, timeoutMs: 2000 });
  assert.ok(Date.now() - started < 8000);
  assert.equal(imported.status, 'timeout');
  assert.ok(imported.limitsHit.includes('timeout'));
  assert.equal(imported.modules[0]?.status, 'timeout');
});

test('one launch for both phases: the import phase has its own deadline and its own output', async (t) => {
  const { sb, common } = await slowWheelSandbox(
    t,
    'onelaunch',
    'print("IMPORTING-NOW", flush=True)\nimport time\ntime.sleep(60)\n',
  );
  const streamed: string[] = [];
  let between: { status: string; stdoutTail: string } | null = null;
  const started = Date.now();
  const runs = await sb.runInstallThenImport({
    ...common,
    timeoutMs: 60_000,
    importTimeoutMs: 2000,
    onPhaseOutput: (phase, _stream, text) => streamed.push(`${phase}:${text}`),
    onInstallEnd: async (install) => {
      between = { status: install.status, stdoutTail: install.stdoutTail };
      return true;
    },
  });
  assert.ok(Date.now() - started < 30_000, 'the import deadline, not the install one, ended it');
  assert.equal((between as { status: string } | null)?.status, 'completed');
  assert.equal(runs.install.status, 'completed', `${runs.install.reason} ${runs.install.stderrTail}`);
  assert.equal(runs.install.exitCode, 0);
  assert.deepEqual(runs.install.limitsHit, []);
  assert.match(runs.install.stdoutTail, /Successfully installed pkghunt-slow-0\.1\.0/);
  assert.doesNotMatch(runs.install.stdoutTail, /IMPORTING-NOW/);
  assert.ok(runs.import, 'the import phase ran in the same launch');
  assert.equal(runs.import.status, 'timeout');
  assert.ok(runs.import.limitsHit.includes('timeout'));
  assert.equal(runs.import.modules[0]?.status, 'timeout');
  assert.match(runs.import.stdoutTail, /IMPORTING-NOW/);
  assert.doesNotMatch(runs.import.stdoutTail, /Successfully installed/);
  assert.ok(streamed.some((s) => s.startsWith('import:') && s.includes('IMPORTING-NOW')));
  assert.ok(streamed.some((s) => s.startsWith('install:') && s.includes('Successfully installed')));
  assert.deepEqual(await listPidsOfUid(sb.hostUid), []);
});

test('one launch: an install phase that fails ends the launch without an import phase', async (t) => {
  const sb = await createSandbox({
    id: testId('onelaunch-fail'),
    limits: { ...SMALL_LIMITS, disk_mb: 256, memory_mb: 512 },
    canaryToken: newCanaryToken(),
  });
  t.after(() => sb.destroy());
  let called = false;
  const runs = await sb.runInstallThenImport({
    netns: null,
    tracer: noTracer,
    traceFile: '/dev/null',
    indexUrl: 'http://127.0.0.1:9/simple/',
    target: `${SANDBOX_LAYOUT.artifactsDir}/missing-0.1.0-py3-none-any.whl`,
    noIndex: true,
    timeoutMs: 60_000,
    importTimeoutMs: 60_000,
    onInstallEnd: async () => {
      called = true;
      return true;
    },
  });
  assert.equal(called, false, 'onInstallEnd is only for a completed install phase');
  assert.equal(runs.import, null);
  assert.equal(runs.install.status, 'failed');
  assert.notEqual(runs.install.exitCode, 0);
  assert.match(runs.install.reason ?? '', /pip exited with code/);
});
