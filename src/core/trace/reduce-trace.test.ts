import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildBehaviour, type TraceBehaviour } from './build-behaviour.ts';
import { parseStraceLine } from './parse-strace-line.ts';
import { reduceTrace, TraceReducer } from './reduce-trace.ts';
import type { NoiseArea } from './trace-behaviour.ts';
import { TraceBehaviourBuilder } from './trace-behaviour-builder.ts';

/** Real traces recorded on this machine (fixtures/README.md). */
function fixture(name: string): string[] {
  return readFileSync(new URL(`./fixtures/${name}.strace`, import.meta.url), 'utf8').split('\n');
}

/** What the record takes from a trace, except the noise areas' counts (which reduction shrinks). */
function behaviourOf(b: TraceBehaviour): unknown {
  return {
    rootPid: b.rootPid,
    commands: b.commands,
    files: b.files,
    connects: b.connects,
    unixConnects: b.unixConnects,
    binds: b.binds,
    sends: b.sends,
    kills: b.kills,
    processes: b.processes,
    survivors: b.survivors,
    unparsed: b.stats.unparsed,
  };
}

const CASES: { name: string; dir: string; runner: string; noise: NoiseArea[]; sensitive: string[] }[] = [
  {
    name: 'pip-install',
    dir: '/tmp/pkghunt-fx-pip',
    runner: 'runner.py',
    noise: [
      { area: 'venv', prefixes: ['/tmp/pkghunt-fx-pip/venv/'], kinds: 'all' },
      { area: 'pip-scratch', prefixes: ['/tmp/pip-'], kinds: 'all' },
      { area: 'system-read', prefixes: ['/usr/', '/lib/', '/etc/', '/proc/', '/dev/null'], kinds: 'reads' },
    ],
    sensitive: ['/etc/passwd'],
  },
  {
    name: 'shell',
    dir: '/tmp/pkghunt-fx-shell',
    runner: 'runner.sh',
    noise: [{ area: 'system', prefixes: ['/usr/', '/lib/', '/etc/', '/proc/', '/dev/'], kinds: 'reads' }],
    sensitive: [],
  },
];

/** The record's builder options for a fixture: its runner, work dir and noise areas. */
function builderOptions(c: (typeof CASES)[number], lines: readonly string[]) {
  return {
    runnerPath: `${c.dir}/${c.runner}`,
    initialCwd: c.dir,
    startTime: Number(lines[0]?.split(/\s+/)[1]),
    noiseAreas: c.noise,
    sensitivePaths: c.sensitive,
  };
}

for (const c of CASES) {
  test(`${c.name} fixture: the reduced trace gives the same behaviour as the full one`, () => {
    const lines = fixture(c.name).filter((l) => l !== '');
    const options = builderOptions(c, lines);
    const reduced = reduceTrace(lines, { noiseAreas: c.noise, sensitivePaths: c.sensitive });
    const full = buildBehaviour(lines, options);
    const fromReduced = buildBehaviour(reduced, options);
    assert.deepEqual(behaviourOf(fromReduced), behaviourOf(full));
    assert.ok(reduced.length < lines.length, 'something was dropped');
    for (const line of lines) {
      if (/ (execve|clone3?|connect|sendto|chdir)\(/.test(line)) assert.ok(reduced.includes(line), line);
    }
  });
}

for (const c of CASES) {
  test(`${c.name} fixture: one parse of each line feeds the behaviour and the reduction as two parses do`, () => {
    const lines = fixture(c.name);
    const options = builderOptions(c, lines);
    const reduceOptions = { noiseAreas: c.noise, sensitivePaths: c.sensitive };
    // As app/assemble-phase does with keptLines: each line parsed once, handed to both.
    const builder = new TraceBehaviourBuilder(options);
    const reducer = new TraceReducer(reduceOptions);
    const kept: string[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      const parsed = parseStraceLine(line);
      builder.pushParsed(parsed, line);
      if (reducer.keepParsed(parsed, line)) kept.push(line);
    }
    assert.deepEqual(kept, reduceTrace(lines, reduceOptions));
    assert.deepEqual(builder.finish(), buildBehaviour(lines, options));
  });
}

test('the pip trace shrinks to what is outside the noise areas', () => {
  const c = CASES[0];
  assert.ok(c);
  const lines = fixture(c.name).filter((l) => l !== '');
  const reduced = reduceTrace(lines, { noiseAreas: c.noise, sensitivePaths: c.sensitive });
  assert.ok(reduced.length < lines.length / 2, `${reduced.length} of ${lines.length} lines kept`);
  const venvAccesses = reduced.filter((l) => / open(at)?\(AT_FDCWD, "\/tmp\/pkghunt-fx-pip\/venv\//.test(l));
  assert.deepEqual(venvAccesses, [], 'venv accesses dropped (the execve of venv/bin/python stays)');
});

const NOISE: NoiseArea[] = [
  { area: 'venv', prefixes: ['/venv/'], kinds: 'all' },
  { area: 'system-read', prefixes: ['/usr/'], kinds: 'reads' },
];

test('reads and failures in noise areas go; writes to read-only areas, sensitive paths and the rest stay', () => {
  const lines = [
    '10 1.000000 openat(AT_FDCWD, "/usr/lib/python3.11/os.py", O_RDONLY|O_CLOEXEC) = 3',
    '10 1.000001 openat(AT_FDCWD, "/usr/lib/python3.11/nope.py", O_RDONLY) = -1 ENOENT (No such file or directory)',
    '10 1.000002 openat(AT_FDCWD, "/usr/lib/evil.pth", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4',
    '10 1.000003 openat(AT_FDCWD, "/venv/lib/site.py", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 5',
    '10 1.000004 unlink("/venv/lib/old.pyc") = 0',
    '10 1.000005 openat(AT_FDCWD, "/usr/../home/u/.ssh/id_rsa", O_RDONLY) = 6',
    '10 1.000006 openat(AT_FDCWD, "/usr/share/secret", O_RDONLY) = 7',
    '10 1.000007 openat(AT_FDCWD, "relative.txt", O_RDONLY) = 8',
    '10 1.000008 rename("/venv/a", "/tmp/a") = 0',
    '10 1.000009 connect(9, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.0.0.1")}, 16) = 0',
    'garbage that strace never prints',
  ];
  const kept = reduceTrace(lines, { noiseAreas: NOISE, sensitivePaths: ['/usr/share/secret'] });
  assert.deepEqual(kept, [lines[2], lines[5], lines[6], lines[7], lines[8], lines[9], lines[10]]);
});

test('a dropped directory open: paths relative to it follow its fate; unfinished calls go with their half', () => {
  const lines = [
    '10 0.9 clone(child_stack=NULL, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD) = 11',
    '10 1.0 openat(AT_FDCWD, "/venv/lib/pkg", O_RDONLY|O_DIRECTORY) = 3',
    '11 1.1 unlinkat(3, "mod.pyc", 0) = 0',
    '10 1.2 openat(3, "../../../etc/x", O_WRONLY|O_CREAT, 0644) = 4',
    '10 1.3 openat(AT_FDCWD, "/tmp/f", O_RDONLY) = 3',
    '10 1.4 unlinkat(3, "y", 0) = -1 ENOTDIR (Not a directory)',
    '12 1.5 mkdir("/venv/lib/new", 0777 <unfinished ...>',
    '13 1.6 execve("/bin/true", ["true"], 0x7ffd /* 1 var */) = 0',
    '12 1.7 <... mkdir resumed>) = 0',
  ];
  const kept = reduceTrace(lines, { noiseAreas: NOISE, sensitivePaths: [] });
  assert.deepEqual(kept, [lines[0], lines[3], lines[4], lines[5], lines[7]]);
});

test('descriptors are per process: another process reusing the number does not count', () => {
  const lines = [
    '20 1.0 openat(AT_FDCWD, "/venv/lib/x.py", O_RDONLY) = 4',
    '21 1.1 openat(AT_FDCWD, "/tmp/build", O_RDONLY|O_DIRECTORY) = 4',
    '21 1.2 unlinkat(4, "input.json", 0) = 0',
    '20 1.3 fork() = 22',
    '22 1.4 unlinkat(4, "x.pyc", 0) = 0',
  ];
  const kept = reduceTrace(lines, { noiseAreas: NOISE, sensitivePaths: [] });
  assert.deepEqual(kept, [lines[1], lines[2], lines[3]], 'the forked child inherited the dropped fd 4');
});
