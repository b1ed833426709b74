import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../config.ts';
import { SANDBOX_LAYOUT } from '../sandbox/layout.ts';
import { buildBehaviour } from './build-behaviour.ts';
import { PhaseTraceSplit } from './phase-trace-split.ts';

const OPTS = { runnerPath: SANDBOX_LAYOUT.runner, phaseMark: SANDBOX_LAYOUT.phaseMark };
const LINES = [
  '2 100.000001 execve("/usr/bin/bash", ["/usr/bin/bash", "-c", "x", "pkghunt-launch", "/pkghunt/runner.py"], 0x1 /* 3 vars */) = 0',
  '7 100.100000 execve("/pkghunt/runner.py", ["/pkghunt/runner.py", "install", "--then-import"], 0x1 /* 9 vars */) = 0',
  "7 100.200000 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x1, stack_size=0x9000}, 88) = 2 /* 8 in strace's PID NS */",
  '8 100.210000 execve("/usr/bin/sh", ["sh", "-c", "echo hi"], 0x1 /* 9 vars */) = 0',
  // The package opens the mark itself: not the runner's pid, nothing moves.
  '8 100.220000 openat(AT_FDCWD, "/pkghunt/.phase-import", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  '8 100.230000 execve("/bin/echo", ["/bin/echo", "after"], 0x1 /* 9 vars */) = 0',
  '8 100.300000 +++ exited with 0 +++',
  '7 100.400000 openat(AT_FDCWD, "/pkghunt/.phase-import", O_RDONLY|O_CLOEXEC <unfinished ...>',
  '2 100.400100 mkdir("/x", 0755) = 0',
  '7 100.400200 <... openat resumed>) = -1 ENOENT (No such file or directory)',
  "7 100.500000 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x1, stack_size=0x9000}, 88) = 3 /* 9 in strace's PID NS */",
  '9 100.510000 execve("/opt/venv/bin/python", ["/opt/venv/bin/python", "-c", "import x"], 0x1 /* 9 vars */) = 0',
  '9 100.600000 +++ exited with 0 +++',
  '7 100.700000 +++ exited with 0 +++',
];

test("PhaseTraceSplit: the runner's own mark splits, a package's does not, a split mark stays whole", () => {
  const split = new PhaseTraceSplit(OPTS);
  assert.equal(split.importPreamble(), null);
  const placed = LINES.map((line) => split.place(line));
  assert.deepEqual(placed, [
    'install',
    'install',
    'install',
    'install',
    'install',
    'install',
    'install',
    'mark',
    'import',
    'mark',
    'import',
    'import',
    'import',
    'import',
  ]);
  assert.ok(split.marked);
  assert.equal(
    split.importPreamble(),
    '7 100.400000 execve("/pkghunt/runner.py", ["/pkghunt/runner.py", "import"], 0x0 /* 0 vars */) = 0',
  );
});

test('PhaseTraceSplit: each part parses on its own, the import part rooted at the runner', () => {
  const split = new PhaseTraceSplit(OPTS);
  const install: string[] = [];
  const imported: string[] = [];
  for (const line of LINES) {
    const part = split.place(line);
    if (part === 'install') install.push(line);
    else if (part === 'import') imported.push(line);
  }
  const i = buildBehaviour(install, { runnerPath: SANDBOX_LAYOUT.runner, startTime: 100 });
  const m = buildBehaviour([split.importPreamble() ?? '', ...imported], {
    runnerPath: SANDBOX_LAYOUT.runner,
    startTime: 100.4,
  });
  assert.equal(i.rootPid, 7);
  assert.equal(m.rootPid, 7);
  assert.deepEqual(
    i.commands.map((c) => c.argv.join(' ')),
    ['sh -c echo hi', '/bin/echo after'],
  );
  assert.deepEqual(
    m.commands.map((c) => c.argv.join(' ')),
    ['/opt/venv/bin/python -c import x'],
  );
  assert.equal(m.commands[0]?.ppid, 7);
  assert.equal(m.stats.unparsed, 0, m.stats.firstUnparsed.join('\n'));
});

test('the runner opens the same mark the host splits at', () => {
  const runner = readFileSync(`${PROJECT_ROOT}/sandbox/runner.py`, 'utf8');
  assert.match(runner, new RegExp(`^PHASE_MARK = "${SANDBOX_LAYOUT.phaseMark.replace(/\./g, '\\.')}"$`, 'm'));
});
