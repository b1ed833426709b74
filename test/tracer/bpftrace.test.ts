import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkBpftrace,
  createBpftraceTracer,
  readBpftraceTrace,
} from '../../src/adapters/tracer/bpftrace.ts';
import { TraceBehaviourBuilder } from '../../src/core/trace/build-behaviour.ts';

// Real bpftrace around a harmless script written here; its only traffic goes to loopback.
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
  const traceFile = join(dir, 'trace.bpf');
  const argv = createBpftraceTracer().wrap(['/bin/sh', runner], { traceFile });
  const started = Date.now() / 1000;
  const result = spawnSync(argv[0] ?? 'bash', argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  assert.equal(result.status, 3, `the command's exit status comes through: ${result.stderr}`);

  const builder = new TraceBehaviourBuilder({ rootExe: '/bin/sh', startTime: started });
  for await (const line of readBpftraceTrace(traceFile)) builder.push(line);
  const b = builder.finish();
  assert.equal(b.stats.unparsed, 0, JSON.stringify(b.stats.firstUnparsed));
  const argvs = b.commands.map((c) => c.argv.join(' '));
  assert.ok(argvs.includes('mkdir sub'), argvs.join('\n'));
  assert.ok(argvs.includes('mv x y'));
  assert.ok(argvs.some((a) => a.startsWith('/usr/bin/python3 -c import socket')));
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
  const root = b.processes.length;
  assert.ok(root >= 5, `forks are seen (${root} processes)`);
  assert.ok(
    b.processes.every((p) => p.exit !== null),
    'every process has its exit',
  );
});
