import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildBehaviour } from './build-behaviour.ts';
import { StraceLineJoiner } from './strace-line-joiner.ts';
import type { NoiseArea } from './trace-behaviour.ts';

/** Real traces recorded on this machine with createStraceTracer().wrap (test/tracer/record-fixtures.ts). */
function fixture(name: string): string[] {
  return readFileSync(new URL(`./fixtures/${name}.strace`, import.meta.url), 'utf8').split('\n');
}

function startOf(lines: string[]): number {
  return Number(lines[0]?.split(/\s+/)[1]);
}

test('every line of the recorded fixtures parses', () => {
  for (const name of ['shell', 'pip-install']) {
    const joiner = new StraceLineJoiner();
    const failures = fixture(name)
      .filter((l) => l !== '')
      .flatMap((l) => joiner.push(l))
      .concat(joiner.flush())
      .filter((e) => e.type === 'unparsed');
    assert.deepEqual(failures, [], name);
  }
});

test('shell fixture: commands, cwd after cd, rename/chmod/delete, connects, survivor', () => {
  const lines = fixture('shell');
  const dir = '/tmp/pkghunt-fx-shell';
  const b = buildBehaviour(lines, {
    runnerPath: `${dir}/runner.sh`,
    initialCwd: dir,
    startTime: startOf(lines),
    noiseAreas: [
      { area: 'system', prefixes: ['/usr/', '/lib/', '/etc/', '/proc/', '/dev/'], kinds: 'reads' },
    ],
  });
  assert.equal(b.stats.unparsed, 0);
  assert.deepEqual(
    b.commands.map((c) => c.argv[0]),
    ['sh', 'mkdir', 'mv', 'chmod', 'rm', '/usr/bin/python3', 'sleep'],
  );
  const sh = b.commands[0];
  assert.equal(sh?.cwd, `${dir}/work`, 'the runner cd (relative) is applied to its children');
  assert.equal(b.commands.find((c) => c.argv[0] === 'mv')?.cwd, `${dir}/work/sub`);
  const byPath = new Map(b.files.map((f) => [f.path, f]));
  assert.deepEqual(byPath.get(`${dir}/work/sub/x`)?.ops, ['write', 'create', 'rename']);
  assert.deepEqual(byPath.get(`${dir}/work/sub/y`)?.ops, ['create', 'chmod', 'delete']);
  assert.ok(byPath.get(`${dir}/work/sub/y`)?.flags.includes(`renamed-from:${dir}/work/sub/x`));
  assert.ok(byPath.get(`${dir}/work/sub`)?.flags.includes('mkdir'));
  assert.deepEqual(
    b.connects.map((c) => [c.ip, c.port, c.protocol, c.result]),
    [
      ['127.0.0.1', 9, 'tcp', 'ECONNREFUSED'],
      ['::1', 9, 'udp', 'ok'],
    ],
  );
  assert.equal(b.sends[0]?.preview, 'hi\\x0a\\x01');
  assert.deepEqual(
    b.kills.map((k) => [k.signal, k.result]),
    [['0', 'ok']],
  );
  assert.deepEqual(
    b.survivors.map((s) => s.argv),
    [['sleep', '0.2']],
  );
  assert.ok(b.commands.every((c) => c.time >= 0 && c.time < 5));
});

test('pip fixture: pip, its helpers and setup.py runs; venv and scratch summarised', () => {
  const lines = fixture('pip-install');
  const dir = '/tmp/pkghunt-fx-pip';
  const noise: NoiseArea[] = [
    { area: 'venv', prefixes: [`${dir}/venv/`], kinds: 'all' },
    { area: 'pip-scratch', prefixes: ['/tmp/pip-'], kinds: 'all' },
    { area: 'system-read', prefixes: ['/usr/', '/lib/', '/etc/', '/proc/', '/dev/null'], kinds: 'reads' },
  ];
  const b = buildBehaviour(lines, {
    runnerPath: `${dir}/runner.py`,
    initialCwd: dir,
    startTime: startOf(lines),
    noiseAreas: noise,
  });
  assert.equal(b.stats.unparsed, 0);
  const argv0 = b.commands.map((c) => c.argv[0]);
  assert.equal(argv0[0], '/usr/bin/python3', 'pip is the first command, not the runner');
  assert.ok(argv0.includes('lsb_release') && argv0.includes('uname'));
  const setupRuns = b.commands.filter((c) => c.argv.join(' ').includes('pip-setuptools-caller'));
  assert.ok(setupRuns.length >= 2, 'setup.py hooks ran');
  assert.ok(
    setupRuns.every((c) => c.cwd?.startsWith('/tmp/pip-req-build-')),
    'setup.py cwd tracked',
  );
  assert.ok(b.files.some((f) => f.path === `${dir}/hello-pkghunt-0.1.tar.gz` && f.ops.includes('read')));
  assert.ok(b.files.every((f) => !f.path.startsWith(`${dir}/venv/`) && !f.path.startsWith('/tmp/pip-')));
  const venv = b.file_summary.find((s) => s.area === 'venv');
  assert.ok(venv && venv.writes > 0 && venv.top_dirs.length > 0);
  assert.ok((b.file_summary.find((s) => s.area === 'pip-scratch')?.writes ?? 0) > 0);
  assert.equal(b.processCount, b.processes.length);
  assert.deepEqual(b.survivors, []);
  assert.ok(b.processes.every((p) => p.exit !== null));
});
