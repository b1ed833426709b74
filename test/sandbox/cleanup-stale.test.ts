import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSandboxCapabilities } from '../../src/adapters/sandbox/capabilities.ts';
import { cgroupDirs } from '../../src/adapters/sandbox/cgroups.ts';
import { cleanupStaleWorkDirs, workDirPrefix } from '../../src/adapters/sandbox/cleanup-stale-sandboxes.ts';
import { listPidsOfUid } from '../../src/adapters/sandbox/proc-scan.ts';
import { cleanupStaleSandboxes } from '../../src/adapters/sandbox/sandbox.ts';
import { mountinfo } from './helpers.ts';

const CHILD = `
import { createSandbox, newCanaryToken } from './src/adapters/sandbox/sandbox.ts';
import { noTracer } from './src/adapters/tracer/tracer.ts';
const id = process.argv[1];
const sb = await createSandbox({ id, limits: { timeout_s: 30, memory_mb: 128, pids: 32, disk_mb: 16, output_kb: 64 }, canaryToken: newCanaryToken() });
void sb.exec(['sleep', '60'], { netns: null, tracer: noTracer, traceFile: '/dev/null', timeoutMs: 60000 });
setTimeout(() => console.log('READY', sb.hostUid, sb.runDir), 300);
setInterval(() => {}, 1000);
`;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

test('cleanupStaleSandboxes undoes a sandbox whose owner was SIGKILLed', async () => {
  const caps = await checkSandboxCapabilities();
  const id = `test-${process.pid}-stale`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, id], {
    cwd: new URL('../..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  const [, uidText, runDir = ''] = ready.split(' ');
  const uid = Number(uidText);
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.ok((await mountinfo()).includes(runDir), 'the dead owner left its tmpfs mounted');

  const cleaned = await cleanupStaleSandboxes();
  assert.ok(cleaned.includes(id));
  assert.equal((await mountinfo()).includes(runDir), false);
  assert.equal(await exists(runDir), false);
  assert.equal(await exists(`/run/pkghunt/uids/${uid}.lock`), false);
  assert.deepEqual(await listPidsOfUid(uid), []);
  if (caps.cgroup !== null) {
    for (const dir of cgroupDirs(caps.cgroup, `pkghunt-${id}`)) assert.equal(await exists(dir), false);
  }
});

test('cleanupStaleWorkDirs removes the work dirs of dead analyses only', async (t) => {
  const tmpDir = await mkdtemp(join(tmpdir(), 'pkghunt-workdirs-test-'));
  t.after(() => rm(tmpDir, { recursive: true, force: true }));
  // A pid that surely is gone: a child that has exited and been reaped.
  const child = spawn('true');
  await new Promise((r) => child.on('close', r));
  const dead = child.pid ?? 0;
  assert.ok(dead > 0);
  const names = {
    dead: `${workDirPrefix(dead)}abc123`,
    alive: `${workDirPrefix(process.pid)}def456`,
    noPid: 'pkghunt-analyze-XyZ123',
    other: `other-${dead}-x`,
  };
  for (const name of Object.values(names)) {
    await mkdir(join(tmpDir, name, 'inner'), { recursive: true });
    await writeFile(join(tmpDir, name, 'inner', 'install.strace'), 'x');
  }
  assert.deepEqual(await cleanupStaleWorkDirs({ tmpDir }), [names.dead]);
  assert.deepEqual((await readdir(tmpDir)).sort(), [names.alive, names.noPid, names.other].sort());
});
