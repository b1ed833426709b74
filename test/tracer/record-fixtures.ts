/**
 * Records the strace fixtures under src/core/trace/fixtures/ with the real tracer argv.
 * Run: node --import tsx test/tracer/record-fixtures.ts   (needs strace; writes only under /tmp/pkghunt-fx-*)
 * Every traced command is harmless code written here; traffic only goes to loopback.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStraceTracer } from '../../src/adapters/tracer/strace.ts';

const FIXTURES = join(import.meta.dirname, '../../src/core/trace/fixtures');
const tracer = createStraceTracer();

function record(name: string, dir: string, command: string[], trim: (lines: string[]) => string[]): void {
  const traceFile = join(dir, 'trace.txt');
  const argv = tracer.wrap(command, { traceFile });
  execFileSync(argv[0] ?? 'strace', argv.slice(1), {
    cwd: dir,
    stdio: 'ignore',
    env: { PATH: '/usr/bin:/bin', HOME: dir },
  });
  const lines = readFileSync(traceFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  writeFileSync(join(FIXTURES, `${name}.strace`), `${trim(lines).join('\n')}\n`);
}

/** Drops successful read-only opens of the Python/system tree: they are most of the trace and all alike. */
function trimSystemReads(lines: string[]): string[] {
  let kept = 0;
  return lines.filter((l) => {
    const noise = /openat\(AT_FDCWD, "\/usr\/(lib|share)\/[^"]*", O_RDONLY[^)]*\) = \d+$/.test(l);
    return !noise || kept++ < 40;
  });
}

function shellFixture(): void {
  const dir = '/tmp/pkghunt-fx-shell';
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'work'), { recursive: true });
  writeFileSync(
    join(dir, 'runner.sh'),
    [
      '#!/bin/sh',
      'cd work',
      `sh -c 'mkdir sub && cd sub && echo hi > x && mv x y && chmod 755 y && rm y && (sleep 0.2 &) ; ` +
        `/usr/bin/python3 -c "import socket; s=socket.socket(); s.connect_ex((\\"127.0.0.1\\", 9)); ` +
        `u=socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.sendto(b\\"hi\\\\n\\\\x01\\", (\\"::1\\", 9))"; kill -0 $$'`,
      '',
    ].join('\n'),
  );
  try {
    record('shell', dir, ['/bin/sh', join(dir, 'runner.sh')], (l) => l);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pipFixture(): void {
  const dir = '/tmp/pkghunt-fx-pip';
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src/hello-pkghunt-0.1/hello_pkghunt'), { recursive: true });
  const pkg = join(dir, 'src/hello-pkghunt-0.1');
  writeFileSync(
    join(pkg, 'setup.py'),
    'from setuptools import setup\nsetup(name="hello-pkghunt", version="0.1", packages=["hello_pkghunt"])\n',
  );
  writeFileSync(join(pkg, 'hello_pkghunt/__init__.py'), 'X = 1\n');
  execFileSync('tar', [
    'czf',
    join(dir, 'hello-pkghunt-0.1.tar.gz'),
    '-C',
    join(dir, 'src'),
    'hello-pkghunt-0.1',
  ]);
  execFileSync('/usr/bin/python3', [
    '-m',
    'venv',
    '--system-site-packages',
    '--without-pip',
    join(dir, 'venv'),
  ]);
  // The runner stands in for /pkghunt/runner.py: pip runs as its child, isolated from host pip config.
  writeFileSync(
    join(dir, 'runner.py'),
    [
      'import os, subprocess, sys',
      'env = {"PATH": "/usr/bin:/bin", "HOME": sys.argv[1], "PIP_CONFIG_FILE": "/dev/null"}',
      'sys.exit(subprocess.call(["/usr/bin/python3", "-m", "pip", "--isolated", "--python", "venv/bin/python", "install",',
      '  "--no-index", "--no-deps", "--no-build-isolation", "--no-cache-dir", "hello-pkghunt-0.1.tar.gz"], env=env, cwd=sys.argv[1]))',
      '',
    ].join('\n'),
  );
  try {
    record('pip-install', dir, ['/usr/bin/python3', join(dir, 'runner.py'), dir], trimSystemReads);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

shellFixture();
pipFixture();
