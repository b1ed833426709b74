import assert from 'node:assert/strict';
import { access, chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkSandboxCapabilities } from '../../src/adapters/sandbox/capabilities.ts';
import { cgroupDirs } from '../../src/adapters/sandbox/cgroups.ts';
import { listPidsOfUid } from '../../src/adapters/sandbox/proc-scan.ts';
import { runHostCommand } from '../../src/adapters/sandbox/run-host-command.ts';
import { createSandbox, newCanaryToken, type Sandbox } from '../../src/adapters/sandbox/sandbox.ts';
import { noTracer } from '../../src/adapters/tracer/tracer.ts';
import type { Limits } from '../../src/core/record/schema.ts';
import { SANDBOX_LAYOUT } from '../../src/core/sandbox/layout.ts';
import { mountinfo, SMALL_LIMITS, testId } from './helpers.ts';

const EXEC = { netns: null, tracer: noTracer, traceFile: '/dev/null' } as const;
const HOST_SECRET = '/root/.pkghunt-test-secret';
const HOST_TMP_MARKER = `/tmp/pkghunt-test-marker-${process.pid}`;

async function withSandbox<T>(limits: Partial<Limits>, body: (sb: Sandbox) => Promise<T>): Promise<T> {
  const sb = await createSandbox({
    id: testId('sb'),
    limits: { ...SMALL_LIMITS, ...limits },
    canaryToken: newCanaryToken(),
  });
  try {
    return await body(sb);
  } finally {
    await sb.destroy();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

before(async () => {
  await writeFile(HOST_SECRET, 'host-secret-value-7731\n', { mode: 0o644 });
  await writeFile(HOST_TMP_MARKER, 'marker\n');
});

after(async () => {
  await rm(HOST_SECRET, { force: true });
  await rm(HOST_TMP_MARKER, { force: true });
});

test('capabilities are found and say how each limit is enforced', async () => {
  const caps = await checkSandboxCapabilities();
  assert.equal(caps.python, '/usr/bin/python3');
  assert.match(caps.bwrapVersion, /bubblewrap/);
  for (const limit of ['timeout', 'memory', 'pids', 'disk', 'output']) {
    assert.ok(caps.enforcement[limit as keyof typeof caps.enforcement]);
  }
});

test('runs as the layout uid inside, as its own unprivileged uid on the host, with no capabilities', async () => {
  await withSandbox({}, async (sb) => {
    assert.ok(sb.hostUid >= 1000 && sb.hostUid !== 0);
    const running = sb.exec(
      ['/bin/sh', '-c', 'id -u; id -un; hostname; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; sleep 0.4'],
      {
        ...EXEC,
        timeoutMs: 10_000,
      },
    );
    await new Promise((r) => setTimeout(r, 250));
    const hostPids = await listPidsOfUid(sb.hostUid);
    const result = await running;
    assert.ok(hostPids.length > 0, 'sandboxed processes run as the allocated host uid');
    const lines = result.stdoutTail.trim().split('\n');
    assert.equal(lines[0], String(SANDBOX_LAYOUT.uid));
    assert.equal(lines[1], SANDBOX_LAYOUT.user);
    assert.equal(lines[2], SANDBOX_LAYOUT.hostname);
    for (const cap of lines.slice(3)) assert.match(cap, /:\s+0{16}$/);
    assert.equal(result.exitCode, 0);
  });
});

test('host files are invisible: /root, /work, host /tmp, the project dir', async () => {
  await withSandbox({}, async (sb) => {
    const script = [
      `cat ${HOST_SECRET}`,
      'ls /work',
      'ls /work/main/package.json',
      `cat ${HOST_TMP_MARKER}`,
      'ls -A /root',
      'ls /run/pkghunt',
      'echo END',
    ].join('; ');
    const result = await sb.exec(['/bin/sh', '-c', script], { ...EXEC, timeoutMs: 10_000 });
    assert.doesNotMatch(result.stdoutTail, /host-secret-value-7731|marker|package\.json/);
    assert.match(result.stdoutTail, /END/);
    assert.match(result.stderrTail, /No such file/);
  });
});

test('the canary files and environment are in place', async () => {
  const token = newCanaryToken();
  const sb = await createSandbox({ id: testId('canary'), limits: SMALL_LIMITS, canaryToken: token });
  try {
    const result = await sb.exec(
      [
        '/bin/sh',
        '-c',
        `cat ${SANDBOX_LAYOUT.home}/.aws/credentials ${SANDBOX_LAYOUT.workdir}/.git/config; echo "$GITHUB_TOKEN"; pwd`,
      ],
      { ...EXEC, timeoutMs: 10_000 },
    );
    assert.match(result.stdoutTail, new RegExp(`AKIA${token.toUpperCase()}`));
    assert.match(result.stdoutTail, new RegExp(`glcbt-ph${token}`));
    assert.match(result.stdoutTail, new RegExp(`ghp_ph${token}env`));
    assert.match(result.stdoutTail, new RegExp(`${SANDBOX_LAYOUT.workdir}\\n$`));
    // Canary values reach the sandbox through the environment, never through an argv the trace would show.
    const launcher = await sb.exec(['/bin/sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; env'], {
      ...EXEC,
      timeoutMs: 10_000,
    });
    const [pid1, ...envLines] = launcher.stdoutTail.split('\n');
    // pid 1 is the command itself, not a bwrap whose argv would give the sandbox away.
    assert.match(pid1 ?? '', /^\/bin\/sh -c/);
    assert.doesNotMatch(launcher.stdoutTail, /bwrap|pkghunt/);
    assert.match(launcher.stdoutTail, new RegExp(`^PWD=${SANDBOX_LAYOUT.workdir}$`, 'm'));
    assert.doesNotMatch(launcher.stdoutTail, /^(SHLVL|OLDPWD)=/m);
    assert.doesNotMatch(envLines.join('\n'), /\/work\/main|\/root/);
  } finally {
    await sb.destroy();
  }
});

test('a fork bomb is contained by the pids limit', async () => {
  await withSandbox({ pids: 48 }, async (sb) => {
    const result = await sb.exec(['/bin/bash', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 2'], {
      ...EXEC,
      timeoutMs: 3000,
    });
    assert.ok(result.limitsHit.includes('pids'), `limits hit: ${result.limitsHit.join(',')}`);
    assert.deepEqual(await listPidsOfUid(sb.hostUid), []);
  });
});

test('a memory bomb is killed by the memory limit', async () => {
  await withSandbox({ memory_mb: 64 }, async (sb) => {
    const result = await sb.exec(
      ['python3', '-c', 'a = []\nwhile True: a.append(bytearray(8 * 1024 * 1024))'],
      {
        ...EXEC,
        timeoutMs: 20_000,
      },
    );
    assert.ok(result.limitsHit.includes('memory'), `limits hit: ${result.limitsHit.join(',')}`);
    assert.notEqual(result.exitCode, 0);
  });
});

test('a disk filler stops at the tmpfs size', async () => {
  await withSandbox({ disk_mb: 16, memory_mb: 256 }, async (sb) => {
    const result = await sb.exec(['/bin/sh', '-c', 'dd if=/dev/zero of=/tmp/fill bs=1M count=200'], {
      ...EXEC,
      timeoutMs: 20_000,
    });
    assert.ok(result.limitsHit.includes('disk'), `limits hit: ${result.limitsHit.join(',')}`);
    assert.match(result.stderrTail, /No space left/);
    assert.notEqual(result.exitCode, 0);
  });
});

test('a sleeper hits the timeout and nothing of it is left', async () => {
  await withSandbox({}, async (sb) => {
    const started = Date.now();
    const result = await sb.exec(['/bin/sh', '-c', 'sleep 30 & sleep 30'], { ...EXEC, timeoutMs: 500 });
    assert.ok(Date.now() - started < 5000);
    assert.ok(result.limitsHit.includes('timeout'));
    assert.deepEqual(await listPidsOfUid(sb.hostUid), []);
  });
});

test('a daemon started by a command does not outlive it', async () => {
  await withSandbox({}, async (sb) => {
    const result = await sb.exec(
      ['/bin/sh', '-c', 'setsid sleep 100 >/dev/null 2>&1 < /dev/null & echo started'],
      {
        ...EXEC,
        timeoutMs: 10_000,
      },
    );
    assert.match(result.stdoutTail, /started/);
    assert.deepEqual(await listPidsOfUid(sb.hostUid), []);
  });
});

test('an output flood is capped', async () => {
  await withSandbox({ output_kb: 64 }, async (sb) => {
    const result = await sb.exec(['yes', 'flood'], { ...EXEC, timeoutMs: 10_000 });
    assert.ok(result.limitsHit.includes('output'));
    assert.ok(result.outputBytes > 64 * 1024);
    assert.ok(result.stdoutTail.length <= 4096);
    assert.ok(result.durationMs < 5000);
  });
});

const CONNECT = [
  'python3',
  '-c',
  [
    'import socket',
    'for addr in [("1.1.1.1", 80), ("10.0.0.1", 443)]:',
    '    s = socket.socket(); s.settimeout(2)',
    '    try: s.connect(addr); print("CONNECTED", addr)',
    '    except OSError as e: print("FAILED", addr, e)',
  ].join('\n'),
];

test('no network without a netns: connects fail', async () => {
  await withSandbox({}, async (sb) => {
    const result = await sb.exec(CONNECT, { ...EXEC, timeoutMs: 15_000 });
    assert.doesNotMatch(result.stdoutTail, /CONNECTED/);
    assert.equal(result.stdoutTail.match(/FAILED/g)?.length, 2);
  });
});

test('runs inside a given network namespace', async () => {
  const ns = `pkghunt-test-${process.pid}`;
  assert.equal((await runHostCommand(['ip', 'netns', 'add', ns])).code, 0);
  try {
    await runHostCommand(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await withSandbox({}, async (sb) => {
      const inode = (
        await runHostCommand(['ip', 'netns', 'exec', ns, 'readlink', '/proc/self/ns/net'])
      ).stdout.trim();
      const result = await sb.exec(['/bin/sh', '-c', 'readlink /proc/self/ns/net'], {
        ...EXEC,
        netns: ns,
        timeoutMs: 10_000,
      });
      assert.equal(result.stdoutTail.trim(), inode);
      const connect = await sb.exec(CONNECT, { ...EXEC, netns: ns, timeoutMs: 15_000 });
      assert.doesNotMatch(connect.stdoutTail, /CONNECTED/);
    });
  } finally {
    await runHostCommand(['ip', 'netns', 'del', ns]);
  }
});

test('destroy leaves no process, cgroup, mount, run dir or uid lock, and is idempotent', async () => {
  const caps = await checkSandboxCapabilities();
  const id = testId('destroy');
  const sb = await createSandbox({ id, limits: SMALL_LIMITS, canaryToken: newCanaryToken() });
  const running = sb.exec(['/bin/sh', '-c', 'sleep 60 & sleep 60'], { ...EXEC, timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok((await mountinfo()).includes(sb.runDir));
  await sb.destroy();
  await running;
  await sb.destroy();
  assert.deepEqual(await listPidsOfUid(sb.hostUid), []);
  if (caps.cgroup !== null) {
    for (const dir of cgroupDirs(caps.cgroup, `pkghunt-${id}`)) assert.equal(await exists(dir), false, dir);
  }
  assert.equal((await mountinfo()).includes(sb.runDir), false);
  assert.equal(await exists(sb.runDir), false);
  assert.equal(await exists(`/run/pkghunt/uids/${sb.hostUid}.lock`), false);
});

test('concurrent sandboxes get distinct uids', async () => {
  const [a, b] = await Promise.all([
    createSandbox({ id: testId('ca'), limits: SMALL_LIMITS, canaryToken: newCanaryToken() }),
    createSandbox({ id: testId('cb'), limits: SMALL_LIMITS, canaryToken: newCanaryToken() }),
  ]);
  try {
    assert.notEqual(a.hostUid, b.hostUid);
    assert.equal((await readFile(`/run/pkghunt/uids/${a.hostUid}.lock`, 'utf8')).trim(), String(process.pid));
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
});

test('set-up and tear-down time of `true` (printed, not asserted)', async () => {
  await checkSandboxCapabilities();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const sb = await createSandbox({
      id: testId('time'),
      limits: SMALL_LIMITS,
      canaryToken: newCanaryToken(),
    });
    try {
      const result = await sb.exec(['true'], { ...EXEC, timeoutMs: 10_000 });
      assert.equal(result.exitCode, 0);
    } finally {
      await sb.destroy();
    }
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(
    `sandbox create + exec true + destroy: median ${times[2]?.toFixed(1)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')})`,
  );
});

test('a state directory that another part made 0700 first still lets the sandbox uid reach its run', async () => {
  const stateDir = `/tmp/pkghunt-test-state-${process.pid}`;
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(join(stateDir, 'sockets'), { recursive: true, mode: 0o700 });
  await chmod(stateDir, 0o700);
  const sb = await createSandbox({
    id: testId('state'),
    limits: SMALL_LIMITS,
    canaryToken: newCanaryToken(),
    stateDir,
  });
  try {
    const result = await sb.exec(['/bin/sh', '-c', 'echo reached'], { ...EXEC, timeoutMs: 10_000 });
    assert.match(result.stdoutTail, /reached/, result.stderrTail);
    assert.equal((await stat(stateDir)).mode & 0o777, 0o711);
  } finally {
    await sb.destroy();
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('the runner starts from the byte-code the host compiled, and /pkghunt stays read-only', async () => {
  await withSandbox({}, async (sb) => {
    const py = [
      'import os, sys',
      'sys.path.insert(0, "/pkghunt")',
      'import pkghunt_runner',
      'print(pkghunt_runner.__cached__, pkghunt_runner.__spec__.loader.path)',
      'print(sorted(os.listdir("/pkghunt/__pycache__")))',
      'try:',
      '    open("/pkghunt/__pycache__/x", "w")',
      'except OSError as e:',
      '    print("write:", e.errno)',
    ].join('\n');
    const result = await sb.exec([SANDBOX_LAYOUT.python, '-IS', '-c', py], { ...EXEC, timeoutMs: 10_000 });
    assert.equal(result.exitCode, 0, result.stderrTail);
    const [cachedLine, listing, write] = result.stdoutTail.trim().split('\n');
    assert.match(
      cachedLine ?? '',
      /^\/pkghunt\/__pycache__\/pkghunt_runner\.cpython-\d+\.pyc \/pkghunt\/pkghunt_runner\.py$/,
    );
    assert.match(listing ?? '', /pkghunt_runner\.cpython-\d+\.pyc/);
    assert.match(write ?? '', /^write: (30|13)$/, 'EROFS or EACCES');
    // The pyc is an unchecked-hash one: Python loads it although the copy changed the source's mtime.
    const check = await sb.exec(
      [
        SANDBOX_LAYOUT.python,
        '-IS',
        '-c',
        'import glob; d = open(glob.glob("/pkghunt/__pycache__/*.pyc")[0], "rb").read(); print(int.from_bytes(d[4:8], "little"))',
      ],
      { ...EXEC, timeoutMs: 10_000 },
    );
    assert.equal(check.stdoutTail.trim(), '1', 'pyc flags: hash-based, unchecked');
  });
});
