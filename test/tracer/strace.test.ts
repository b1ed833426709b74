import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { checkStrace, createStraceTracer } from '../../src/adapters/tracer/strace.ts';
import { buildBehaviour } from '../../src/core/trace/build-behaviour.ts';

const run = promisify(execFile);

test('checkStrace accepts the installed strace', async () => {
  await checkStrace();
});

test('wrap keeps the flags the parser relies on', () => {
  const wrapped = createStraceTracer({ stringLimit: 100 }).wrap(['echo', 'x'], { traceFile: '/tmp/t' });
  // strace runs in a pid namespace of its own (see createStraceTracer): the prefix, then strace.
  assert.deepEqual(wrapped.slice(0, 6), ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', '--']);
  const argv = wrapped.slice(6);
  assert.deepEqual(argv.slice(0, 8), [
    'strace',
    '-f',
    '-q',
    '--pidns-translation',
    '-ttt',
    '-s',
    '100',
    '--seccomp-bpf',
  ]);
  assert.ok(!argv.includes('-qq'), '-qq would hide the exit lines');
  assert.deepEqual(argv.slice(-5), ['-o', '/tmp/t', '--', 'echo', 'x']);
  assert.equal(argv[8], '-e');
  assert.match(argv[9] ?? '', /^trace=.*\bexecve\b.*\bclone\b.*\bchdir\b.*\bconnect\b/);
});

test('real strace run: execve argv, relative path after chdir, connect to 127.0.0.1', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-strace-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runner = join(dir, 'runner.sh');
  await writeFile(
    runner,
    [
      '#!/bin/sh',
      // The child changes directory, then writes through a relative path: resolution must follow it.
      "sh -c 'mkdir sub && cd sub && echo data > rel.txt && mv rel.txt moved.txt'",
      '/usr/bin/python3 -c \'import socket; s = socket.socket(); s.settimeout(2); s.connect_ex(("127.0.0.1", 9))\'',
      '',
    ].join('\n'),
  );
  const traceFile = join(dir, 'trace.txt');
  const started = Date.now() / 1000;
  const argv = createStraceTracer().wrap(['/bin/sh', runner], { traceFile });
  await run(argv[0] ?? 'strace', argv.slice(1), {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    timeout: 30_000,
  });

  const lines = (await readFile(traceFile, 'utf8')).split('\n');
  const b = buildBehaviour(lines, { runnerPath: runner, initialCwd: dir, startTime: started });
  assert.equal(b.stats.unparsed, 0, b.stats.firstUnparsed.join('\n'));
  assert.notEqual(b.rootPid, null);

  const sh = b.commands.find((c) => c.argv[0] === 'sh');
  assert.deepEqual(sh?.argv, [
    'sh',
    '-c',
    'mkdir sub && cd sub && echo data > rel.txt && mv rel.txt moved.txt',
  ]);
  assert.equal(sh?.cwd, dir);
  assert.equal(sh?.ppid, b.rootPid);
  const mv = b.commands.find((c) => c.argv[0] === 'mv');
  assert.deepEqual(mv?.argv, ['mv', 'rel.txt', 'moved.txt']);
  assert.equal(mv?.cwd, join(dir, 'sub'));
  assert.ok(
    b.commands.every((c) => !c.argv.includes(runner)),
    'the runner itself is not a command',
  );

  const byPath = new Map(b.files.map((f) => [f.path, f]));
  const written = byPath.get(join(dir, 'sub/rel.txt'));
  assert.ok(written, `files seen: ${[...byPath.keys()].join(', ')}`);
  assert.ok(
    written.ops.includes('write') && written.ops.includes('create') && written.ops.includes('rename'),
  );
  assert.ok(byPath.get(join(dir, 'sub/moved.txt'))?.ops.includes('create'));

  const connect = b.connects.find((c) => c.ip === '127.0.0.1' && c.port === 9);
  assert.ok(connect, JSON.stringify(b.connects));
  assert.equal(connect.protocol, 'tcp');
  assert.equal(connect.family, 'AF_INET');
  assert.ok(connect.time >= 0 && connect.time < 30);
  assert.ok(
    b.processes.every((p) => p.exit === 'exited with 0'),
    JSON.stringify(b.processes),
  );
  assert.deepEqual(b.survivors, []);
});

test('real strace run: processes in a nested pid namespace keep their parents', async (t) => {
  // The sandbox's processes live one pid namespace below strace's: each clone() there returns a pid
  // of that namespace, and the tree must still link parent and child by strace's own pids.
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-strace-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runner = join(dir, 'runner.sh');
  await writeFile(runner, ['#!/bin/sh', "sh -c 'true; /bin/echo inner'", '/bin/echo outer', ''].join('\n'));
  const traceFile = join(dir, 'trace.txt');
  const started = Date.now() / 1000;
  const argv = createStraceTracer().wrap(['unshare', '--pid', '--fork', '--mount-proc', '/bin/sh', runner], {
    traceFile,
  });
  await run(argv[0] ?? 'unshare', argv.slice(1), {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin' },
    timeout: 30_000,
  });
  const text = await readFile(traceFile, 'utf8');
  assert.match(text, /in strace's PID NS/, 'clone results inside the nested namespace are translated');
  const b = buildBehaviour(text.split('\n'), { runnerPath: runner, initialCwd: dir, startTime: started });
  assert.equal(b.stats.unparsed, 0, b.stats.firstUnparsed.join('\n'));
  const sh = b.commands.find((c) => c.argv[0] === 'sh');
  const inner = b.commands.find((c) => c.argv.join(' ') === '/bin/echo inner');
  const outer = b.commands.find((c) => c.argv.join(' ') === '/bin/echo outer');
  assert.ok(sh && inner && outer, JSON.stringify(b.commands.map((c) => c.argv)));
  assert.equal(sh.ppid, b.rootPid);
  assert.equal(outer.ppid, b.rootPid);
  assert.equal(inner.ppid, sh.pid, 'the grandchild hangs under the sh that started it');
});
