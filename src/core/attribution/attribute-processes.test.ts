import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Attribution } from '../record/schema.ts';
import { fixturePhase } from './_fixture-phase.ts';
import { attributeProcesses, type ProcessNode } from './attribute-processes.ts';
import { buildDirOwner } from './build-dir.ts';

const PIP = ['/opt/venv/bin/python', '/usr/lib/python3/dist-packages/pip/__pip-runner__.py', 'install'];
const HOOK = [
  '/opt/venv/bin/python',
  '/x/pyproject_hooks/_in_process/_in_process.py',
  'build_wheel',
  '/tmp/t',
];

function node(pid: number, ppid: number | null, argv: string[], cwd = '/builds/app'): ProcessNode {
  return { pid, ppid, argv, cwd, start: pid };
}

function kinds(map: Map<number, Attribution>): Record<number, string> {
  return Object.fromEntries([...map].map(([pid, a]) => [pid, `${a.kind}:${a.distribution ?? '-'}`]));
}

test('build dirs name their distribution; a path requirement builds in pip-req-build', () => {
  assert.deepEqual(buildDirOwner('/tmp/pip-install-ab12/ph-test-dep-evil_1db89e118cfc48e1b352ca0a02a4ed25'), {
    kind: 'named',
    name: 'ph-test-dep-evil',
  });
  assert.deepEqual(buildDirOwner('/tmp/pip-install-ab12/Foo.Bar/sub'), { kind: 'named', name: 'foo-bar' });
  assert.deepEqual(buildDirOwner('/tmp/pip-req-build-x9/setup.py'), { kind: 'unnamed' });
  assert.equal(buildDirOwner('/tmp/pip-build-env-x9/overlay'), null);
  assert.equal(buildDirOwner('/builds/app'), null);
});

test('install: hooks and their descendants belong to the sdist being built, the rest to pip', () => {
  const map = attributeProcesses(
    [
      node(10, 1, ['/usr/bin/python3', '-m', 'pip', 'install', 'top']),
      node(11, 10, PIP),
      node(12, 11, ['uname', '-rs']),
      node(13, 11, HOOK, '/tmp/pip-install-q/top_0123456789abcdef0123456789abcdef'),
      node(14, 13, ['sh', '-c', 'id'], '/tmp/elsewhere'),
      node(15, 14, ['id'], '/'),
      node(16, 11, HOOK, '/tmp/pip-install-q/dep-a_0123456789abcdef0123456789abcdef'),
      node(17, 16, ['gcc', 'x.c']),
      // the build environment's own install, and an sdist it builds
      node(18, 11, [...PIP, '--prefix', '/tmp/pip-build-env-z/overlay', 'backend']),
      node(19, 18, HOOK, '/tmp/pip-install-r/backend_0123456789abcdef0123456789abcdef'),
      node(20, 19, ['curl', 'x']),
      node(21, 999, ['orphan']),
      // code pip did not choose to run (e.g. a dependency's .pth file starting a shell)
      node(22, 11, ['sh', '-c', 'curl x']),
      node(23, 22, ['curl', 'x']),
    ],
    { phase: 'install', rootPid: 1, target: 'Top' },
  );
  assert.deepEqual(kinds(map), {
    1: 'pip:-',
    10: 'pip:-',
    11: 'pip:-',
    12: 'pip:-',
    13: 'package:top',
    14: 'package:top',
    15: 'package:top',
    16: 'dependency:dep-a',
    17: 'dependency:dep-a',
    18: 'pip:-',
    19: 'build_dependency:backend',
    20: 'build_dependency:backend',
    21: 'unknown:-',
    22: 'unknown:-',
    23: 'unknown:-',
  });
  assert.equal(map.get(22)?.method, 'unexpected-child-of-pip');
  assert.equal(map.get(13)?.method, 'build-dir');
  assert.equal(map.get(15)?.method, 'process-tree');
});

test('install: a legacy setup.py named in argv, and a local target unpacked in pip-req-build', () => {
  const map = attributeProcesses(
    [
      node(10, 1, PIP),
      node(11, 10, ['python', '-c', "exec(compile(open('/tmp/pip-install-q/dep-b/setup.py')))"]),
      node(12, 10, HOOK, '/tmp/pip-req-build-abc'),
    ],
    { phase: 'install', rootPid: 1, target: 'local-pkg' },
  );
  assert.deepEqual(kinds(map), { 1: 'pip:-', 10: 'pip:-', 11: 'dependency:dep-b', 12: 'package:local-pkg' });
});

test('import: the k-th probe imports the k-th module; its children follow it', () => {
  const probe = (m: string) => ['/opt/venv/bin/python', '-c', `import ${m}`];
  const map = attributeProcesses(
    [
      node(10, 1, probe('dep_mod')),
      node(11, 10, ['uname', '-r']),
      node(12, 1, probe('top')),
      node(13, 12, ['uname', '-r']),
    ],
    {
      phase: 'import',
      rootPid: 1,
      target: 'top',
      modules: [
        { module: 'dep_mod', status: 'ok', error: null, duration_ms: 1, distribution: 'Dep_Mod' },
        { module: 'top', status: 'ok', error: null, duration_ms: 1 },
      ],
    },
  );
  assert.deepEqual(kinds(map), {
    10: 'dependency:dep-mod',
    11: 'dependency:dep-mod',
    12: 'package:top',
    13: 'package:top',
  });
});

test('recorded install of ph-test-dep-evil-top: its setup.py is the package, the dependencies build their own', () => {
  const { behaviour } = fixturePhase('evil-top', 'install');
  const map = attributeProcesses(behaviour.processes, {
    phase: 'install',
    rootPid: behaviour.rootPid,
    target: 'ph-test-dep-evil-top',
  });
  const culprit = (argv0: string) =>
    new Set(
      behaviour.commands
        .filter((c) => c.argv[0] === argv0)
        .map((c) => `${map.get(c.pid)?.kind}:${map.get(c.pid)?.distribution}`),
    );
  assert.deepEqual(culprit('whoami'), new Set(['package:ph-test-dep-evil-top']));
  assert.deepEqual(culprit('curl'), new Set(['package:ph-test-dep-evil-top']));
  assert.deepEqual(culprit('x86_64-linux-gnu-gcc'), new Set(['dependency:ph-demo-cext']));
  assert.deepEqual(culprit('lsb_release'), new Set(['pip:null']));
  assert.deepEqual(culprit('uname'), new Set(['pip:null']));
  const passes = behaviour.commands.filter((c) => c.argv.join(' ') === '/opt/venv/bin/python -c pass');
  assert.ok(passes.length > 0);
  for (const c of passes) assert.equal(map.get(c.pid)?.distribution, 'ph-test-dep-builder');
  for (const p of behaviour.processes) assert.notEqual(map.get(p.pid)?.kind, 'unknown', `pid ${p.pid}`);
});
