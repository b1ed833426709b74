import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyPhase } from '../record/empty-phase.ts';
import type { Attribution, Connection } from '../record/schema.ts';
import { fixturePhase } from './_fixture-phase.ts';
import { attributePhase } from './attribute-phase.ts';
import { attributeProcesses } from './attribute-processes.ts';

const PKG: Attribution = { kind: 'package', distribution: 'top', method: 'import-process' };
const DEP: Attribution = { kind: 'dependency', distribution: 'dep', method: 'import-process' };
const label = (a: Attribution | undefined) => (a ? `${a.kind}:${a.distribution ?? '-'}` : 'none');

function connection(ip: string, port: number, time: number, hostname: string | null = null): Connection {
  return {
    protocol: 'tcp',
    ip,
    port,
    hostname,
    sent_bytes: 0,
    sent_preview: '',
    http: null,
    tls_sni: null,
    time,
    pids: [],
  };
}

test('a DNS query belongs to the last process that reached the resolver before it arrived', () => {
  const phase = emptyPhase({
    dns: [
      { name: 'a.example', type: 'A', time: 1.0, answer: null, server: null },
      { name: 'a.example', type: 'A', time: 1.05, answer: null, server: null },
      { name: 'b.example', type: 'A', time: 0.1, answer: null, server: null },
    ],
  });
  const out = attributePhase(phase, {
    processes: new Map([
      [1, DEP],
      [2, PKG],
    ]),
    connects: [
      { pid: 1, time: 0.9995, ip: '127.0.0.1', port: 53 },
      { pid: 2, time: 1.046, ip: '127.0.0.1', port: 53 },
      { pid: 2, time: 1.046, ip: '127.53.0.1', port: 80 },
    ],
  });
  assert.deepEqual(
    out.dns.map((q) => label(q.by?.[0])),
    ['dependency:dep', 'package:top', 'unknown:-'],
  );
});

test('a connection belongs to the last connect to its destination before the sinkhole saw it', () => {
  const phase = emptyPhase({
    connections: [connection('127.53.0.1', 80, 1.0), connection('127.53.0.1', 80, 2.0)],
  });
  const out = attributePhase(phase, {
    processes: new Map([
      [1, DEP],
      [2, PKG],
    ]),
    connects: [
      { pid: 1, time: 0.99, ip: '127.53.0.1', port: 80 },
      { pid: 2, time: 1.99, ip: '127.53.0.1', port: 80 },
    ],
  });
  assert.deepEqual(
    out.connections.map((c) => label(c.by?.[0])),
    ['dependency:dep', 'package:top'],
  );
});

test('network and foreign files inside a pip process are not passed off as pip’s', () => {
  const PIP: Attribution = { kind: 'pip', distribution: null, method: 'process-tree' };
  const file = (path: string) => ({
    path,
    ops: ['read' as const],
    flags: [],
    count: 1,
    failed: 0,
    errors: [],
    pids: [1],
  });
  const out = attributePhase(
    emptyPhase({
      files: [file('/tmp/abcd_123'), file('/etc/os-release'), file('/home/builder/.aws/credentials')],
      connections: [connection('127.53.0.9', 443, 1)],
    }),
    { processes: new Map([[1, PIP]]), connects: [{ pid: 1, time: 0.9, ip: '127.53.0.9', port: 443 }] },
  );
  assert.deepEqual(
    out.files.map((f) => label(f.by?.[0])),
    ['pip:-', 'pip:-', 'unknown:-'],
  );
  assert.equal(label(out.connections[0]?.by?.[0]), 'unknown:-');
});

test('staged import: what a dependency already showed on its own is the dependency’s', () => {
  const phase = emptyPhase({
    commands: [
      { argv: ['uname', '-r'], cwd: null, pid: 1, ppid: null, time: 0, exe: '/bin/uname' },
      { argv: ['uname', '-r'], cwd: null, pid: 2, ppid: null, time: 1, exe: '/bin/uname' },
      { argv: ['whoami'], cwd: null, pid: 2, ppid: null, time: 1, exe: '/bin/whoami' },
    ],
    files: [
      { path: '/tmp/x', ops: ['write'], flags: [], count: 2, failed: 0, errors: [], pids: [1, 2] },
      { path: '/tmp/own', ops: ['write'], flags: [], count: 1, failed: 0, errors: [], pids: [2] },
    ],
  });
  const out = attributePhase(phase, {
    processes: new Map([
      [1, DEP],
      [2, PKG],
    ]),
    connects: [],
    stagedOrder: ['dep', 'top'],
  });
  assert.deepEqual(
    out.commands.map((c) => `${label(c.by)} ${c.by?.method}`),
    ['dependency:dep import-process', 'dependency:dep staged-import', 'package:top import-process'],
  );
  assert.deepEqual(
    out.files.map((f) => f.by?.map(label)),
    [['dependency:dep'], ['package:top']],
  );
});

test('recorded import of ph-test-dep-benign-top: the dependency’s import-time traffic is the dependency’s', () => {
  const { phase, behaviour, modules } = fixturePhase('benign-top', 'import');
  const processes = attributeProcesses(behaviour.processes, {
    phase: 'import',
    rootPid: behaviour.rootPid,
    target: 'ph-test-dep-benign-top',
    modules,
  });
  const out = attributePhase(phase, {
    processes,
    connects: behaviour.connects,
    stagedOrder: ['ph-test-dep-evil', 'ph-test-dep-benign-top'],
  });
  const evil = out.connections.filter((c) => c.hostname === 'evil-dep-import.example');
  assert.equal(evil.length, 2, 'once in the dependency’s own import, once through the package’s');
  for (const c of evil) assert.deepEqual(c.by?.map(label), ['dependency:ph-test-dep-evil']);
  const queries = out.dns.filter((q) => q.name === 'evil-dep-import.example');
  assert.ok(queries.length >= 2);
  for (const q of queries) assert.deepEqual(q.by?.map(label), ['dependency:ph-test-dep-evil']);
  const dropped = out.files.find((f) => f.path === '/tmp/ph-test-dep-evil-imported');
  assert.deepEqual(dropped?.by?.map(label), ['dependency:ph-test-dep-evil']);
  const probe = out.commands.find((c) => c.argv[2] === 'import ph_test_dep_benign_top');
  assert.deepEqual(probe?.by, {
    kind: 'package',
    distribution: 'ph-test-dep-benign-top',
    method: 'import-process',
  });
});

test('recorded install of ph-test-dep-benign-top: the dependency’s setup.py traffic is the dependency’s', () => {
  const { phase, behaviour } = fixturePhase('benign-top', 'install');
  const processes = attributeProcesses(behaviour.processes, {
    phase: 'install',
    rootPid: behaviour.rootPid,
    target: 'ph-test-dep-benign-top',
  });
  const out = attributePhase(phase, { processes, connects: behaviour.connects });
  assert.ok(out.connections.length > 0);
  for (const c of out.connections) assert.deepEqual(c.by?.map(label), ['dependency:ph-test-dep-evil']);
  assert.ok(out.dns.length > 0);
  for (const q of out.dns) assert.deepEqual(q.by?.map(label), ['dependency:ph-test-dep-evil']);
  const id = out.commands.filter((c) => c.argv[0] === 'id');
  assert.equal(id.length, 3, 'setup.py runs once per PEP 517 hook');
  for (const c of id) assert.equal(label(c.by), 'dependency:ph-test-dep-evil');
  assert.ok(
    out.commands.every(
      (c) => c.by?.distribution !== 'ph-test-dep-benign-top' || c.argv[1]?.includes('_in_process'),
    ),
  );
});
