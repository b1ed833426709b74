import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkBpftrace, createBpftraceTracer } from '../../src/adapters/tracer/bpftrace.ts';
import { sharedBpftraceDaemon } from '../../src/adapters/tracer/bpftrace-daemon.ts';
import type { Tracer } from '../../src/adapters/tracer/tracer.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { TraceBehaviourBuilder } from '../../src/core/trace/build-behaviour.ts';
import type { TraceBehaviour } from '../../src/core/trace/trace-behaviour.ts';

function run(argv: readonly string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? 'bash', argv.slice(1), { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

/** Runs `command` under `tracer` and builds the behaviour of its trace. */
async function traced(
  tracer: Tracer,
  command: readonly string[],
  traceFile: string,
): Promise<{ code: number | null; b: TraceBehaviour }> {
  const started = Date.now() / 1000;
  const code = await run(tracer.wrap(command, { traceFile }));
  const builder = new TraceBehaviourBuilder({ rootExe: command[0] ?? '', startTime: started });
  for await (const line of tracer.readTrace?.(traceFile) ?? []) builder.push(line);
  return { code, b: builder.finish() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !alive(pid);
}

// Real bpftrace around harmless scripts written here; their only traffic goes to loopback.
test('bpftrace traces a process tree into the same behaviour model as strace', async (t) => {
  await checkBpftrace();
  const dir = mkdtempSync('/tmp/pkghunt-bpftrace-test-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const runner = join(dir, 'runner.sh');
  writeFileSync(
    runner,
    [
      '#!/bin/sh',
      `cd ${dir}`,
      'mkdir sub && cd sub && echo hi > x && mv x y && chmod 755 y && rm y',
      "/usr/bin/python3 -c \"import socket; s=socket.socket(); s.connect_ex(('127.0.0.1', 9)); " +
        "u=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.sendto(b'hi', ('::1', 9)); " +
        "open('we\\nird', 'w').close()\"",
      'exit 3',
      '',
    ].join('\n'),
  );
  const tracer = createBpftraceTracer();
  await tracer.prepare?.();
  const { code, b } = await traced(tracer, ['/bin/sh', runner], join(dir, 'trace.bpf'));
  assert.equal(code, 3, "the command's exit status comes through");
  assert.equal(b.stats.unparsed, 0, JSON.stringify(b.stats.firstUnparsed));
  const argvs = b.commands.map((c) => c.argv.join(' '));
  assert.ok(argvs.includes('mkdir sub'), argvs.join('\n'));
  assert.ok(argvs.includes('mv x y'));
  assert.ok(argvs.some((a) => a.startsWith('/usr/bin/python3 -c import socket')));
  assert.ok(!argvs.some((a) => a.includes('kill -0')), 'the registration is not a command of the trace');
  assert.deepEqual(b.kills, [], "the registration's kill(TOKEN, 0) is not in the trace");
  const file = (path: string) => b.files.find((f) => f.path === join(dir, path));
  assert.deepEqual(file('sub/x')?.flags.includes(`renamed-to:${join(dir, 'sub/y')}`), true);
  assert.ok(file('sub/y')?.ops.includes('chmod'));
  assert.ok(file('sub/y')?.ops.includes('delete'));
  assert.ok(file('sub/we\nird')?.ops.includes('create'), 'a newline in a path survives');
  assert.deepEqual(
    b.connects.map((c) => [c.ip, c.port, c.protocol, c.result]),
    [
      ['127.0.0.1', 9, 'tcp', 'ECONNREFUSED'],
      ['::1', 9, 'udp', 'ok'],
    ],
  );
  assert.equal(b.sends[0]?.preview, 'hi');
  assert.ok(b.processes.length >= 5, `forks are seen (${b.processes.length} processes)`);
  assert.ok(
    b.processes.every((p) => p.exit !== null),
    'every process has its exit',
  );
  assert.equal(tracer.lostEvents?.(), 0);
});

test('two concurrent launches in one process get complete, separate traces from one bpftrace', async (t) => {
  await checkBpftrace();
  const dir = mkdtempSync('/tmp/pkghunt-bpftrace-test-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = sharedBpftraceDaemon();
  const one = createBpftraceTracer();
  const two = createBpftraceTracer();
  await one.prepare?.();
  await two.prepare?.();
  const pid = daemon.pid;
  const script = (name: string) => [
    '/bin/sh',
    '-c',
    // Many forks, files and a sleep so that both launches overlap.
    `cd ${dir} && for i in 1 2 3 4 5 6 7 8; do touch ${name}-$i; /bin/echo ${name}-$i >/dev/null; done; ` +
      `sleep 0.5; mkdir ${name}-done`,
  ];
  const [a, b] = await Promise.all([
    traced(one, script('alpha'), join(dir, 'alpha.bpf')),
    traced(two, script('beta'), join(dir, 'beta.bpf')),
  ]);
  assert.equal(daemon.pid, pid, 'both launches used the same bpftrace');
  for (const [mine, theirs, trace] of [
    ['alpha', 'beta', a],
    ['beta', 'alpha', b],
  ] as const) {
    assert.equal(trace.code, 0);
    const argvs = trace.b.commands.map((c) => c.argv.join(' '));
    for (let i = 1; i <= 8; i++) {
      assert.ok(argvs.includes(`/bin/echo ${mine}-${i}`), `${mine}: echo ${i} in ${argvs.join('\n')}`);
      assert.ok(trace.b.files.some((f) => f.path === join(dir, `${mine}-${i}`)));
    }
    assert.ok(trace.b.files.some((f) => f.path === join(dir, `${mine}-done`) && f.ops.includes('create')));
    assert.ok(!argvs.some((x) => x.includes(theirs)), `${mine} has none of ${theirs}'s commands`);
    assert.ok(!trace.b.files.some((f) => f.path.includes(theirs)), `${mine} has none of ${theirs}'s files`);
    assert.ok(
      trace.b.processes.every((p) => p.exit !== null),
      `${mine}: every process has its exit`,
    );
  }
});

test('bpftrace does not outlive the process that started it, even one killed outright', async () => {
  await checkBpftrace();
  for (const end of ['exit', 'SIGKILL'] as const) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/adapters/tracer/bpftrace-daemon.ts').then(async (m) => { const d = m.sharedBpftraceDaemon(); " +
          "await d.ready(); console.log(d.pid); setTimeout(() => {}, process.argv[1] === 'exit' ? 10 : 600000); })",
        end,
      ],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const closed = new Promise((resolve) => child.on('close', resolve));
    const bpftracePid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.on('error', reject);
      child.on('close', (code) => reject(new Error(`the child exited (${code}) before bpftrace was ready`)));
    });
    assert.ok(bpftracePid > 0 && alive(bpftracePid), `${end}: bpftrace runs while its process does`);
    if (end === 'SIGKILL') child.kill('SIGKILL');
    await closed;
    assert.ok(await waitGone(bpftracePid, 60_000), `${end}: bpftrace ${bpftracePid} ended with its process`);
  }
});
