import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmd, conn, DEP, dns, file, testRecord } from './_test-records.ts';
import { commandShape } from './command-shape.ts';
import { pathPattern } from './path-pattern.ts';
import { isPopular, PopularList, popularNames } from './popularity.ts';
import { createPopulationBuilder } from './population.ts';
import { recordBehaviours } from './record-behaviours.ts';

test('commandShape keeps the executable and the shape of its arguments', () => {
  assert.equal(commandShape(['/usr/bin/gcc', '-O2', '-c', '/tmp/tmpab12cd/x.c']), 'gcc -O2 -c <path>');
  assert.equal(commandShape(['curl', '-s', 'http://a.example/x']), 'curl -s <url>');
  assert.equal(commandShape(['nc', 'h.example', '5566']), 'nc h.example <n>');
  assert.equal(commandShape(['sh', '-c', 'echo deadbeefcafe1234']), 'sh -c echo <hex>');
  assert.equal(commandShape(['grep', 'ci-token', '.git/config']), 'grep ci-token <path>');
  assert.equal(commandShape(['cc1', 'ph_x.c', '-o', 'build/t.o'], { name: 'ph-x' }), 'cc1 <pkg>.c -o <path>');
  // Two runs that differ only in temp names and numbers share one key.
  assert.equal(commandShape(['/bin/cp', '/tmp/a1/f', '/tmp/b2/g']), commandShape(['cp', '/x', '/y']));
});

test('pathPattern replaces home, the package name and version, and temp randomness', () => {
  const pkg = { name: 'Foo-Bar', version: '1.2.3' };
  assert.equal(pathPattern('/home/builder/.bashrc', pkg), '~/.bashrc');
  assert.equal(pathPattern('/tmp/foo_bar-1.2.3/x', pkg), '/tmp/<pkg>-<version>/x');
  assert.equal(pathPattern('/tmp/tmpk3j4h5l6/out', pkg), '/tmp/tmp<rand>/out');
  assert.equal(pathPattern('/builds/app/.git/config', pkg), '/builds/app/.git/config');
  assert.equal(
    pathPattern('/tmp/FOO-BAR-cache/x', pkg),
    pathPattern('/tmp/other-pkg-cache/x', { name: 'other-pkg', version: '9.9' }),
  );
});

test('recordBehaviours skips the build machinery and marks dependency-induced behaviour', () => {
  const record = testRecord('p', '1.0', {
    install: {
      commands: [
        cmd(['/opt/venv/bin/python', '-m', 'pip', 'install', 'p']),
        cmd(['curl', 'http://x.example/a']),
        cmd(['wget', 'http://y.example/b'], DEP),
      ],
      connections: [conn('x.example', '127.53.0.1', 80), conn(null, '1.2.3.4', 443, [DEP])],
      dns: [dns('X.example.'), dns('x.example')],
      files: [file('/home/builder/.bashrc', ['write']), file('/etc/passwd', ['read'])],
    },
  });
  const b = recordBehaviours(record);
  const keys = b.map((x) => `${x.kind}:${x.key}:${x.own ? 'own' : 'dep'}`).sort();
  assert.deepEqual(keys, [
    'command:curl <url>:own',
    'command:wget <url>:dep',
    'dns:x.example:own',
    'host:1.2.3.4:dep',
    'host:x.example:own',
    'path:/etc/passwd:own',
    'path:~/.bashrc:own',
  ]);
  assert.equal(b.find((x) => x.key === '~/.bashrc')?.write, true);
  assert.equal(b.find((x) => x.key === '/etc/passwd')?.write, false);
});

test('the population counts each project once, popular ones apart', () => {
  const builder = createPopulationBuilder();
  const gcc = { install: { commands: [cmd(['/usr/bin/gcc', '-c', '/tmp/a/x.c'])] } };
  builder.add(testRecord('numpyish', '1', gcc), { popular: true });
  builder.add(testRecord('numpyish', '2', gcc), { popular: true });
  builder.add(testRecord('small', '1', gcc), { popular: false });
  builder.add(testRecord('evil', '1', { install: { dns: [dns('rare.example')] } }), { popular: false });
  const population = builder.build();
  assert.equal(population.packages, 3);
  assert.equal(population.popularPackages, 1);
  assert.deepEqual(population.share('command', 'gcc -c /tmp/b/y.c'), { packages: 2, popularPackages: 1 });
  assert.deepEqual(population.share('dns', 'RARE.example.'), { packages: 1, popularPackages: 0 });
  assert.deepEqual(population.share('host', 'never.example'), { packages: 0, popularPackages: 0 });
  // Detection asks with raw values: an argv joined with spaces, a path as it was.
  const own = createPopulationBuilder();
  own.add(
    testRecord('ph-x', '1', {
      install: {
        commands: [cmd(['cc1', '/tmp/tmpabcdefgh/ph_x.c'])],
        connections: [conn('c2.example', '127.53.0.1', 443)],
        files: [file('/home/builder/.bashrc', ['write'])],
      },
    }),
    { popular: false },
  );
  const view = own.build();
  assert.equal(view.share('command', 'cc1 /tmp/tmpzzzzzzzz/ph_x.c').packages, 1);
  assert.equal(view.share('path', '/home/builder/.bashrc').packages, 1);
  assert.equal(view.share('host', 'c2.example').packages, 1);
});

test('popular means listed or released over several years', () => {
  const names = popularNames(PopularList.parse({ rows: [{ project: 'Requests', download_count: 5 }] }));
  assert.ok(isPopular('requests', { popularNames: names, uploadTimes: [] }));
  assert.deepEqual([...popularNames(PopularList.parse(['A_b', { name: 'c', downloads: 1 }]))], ['a-b', 'c']);
  const old = ['2015-01-01T00:00:00Z', null, '2024-06-01T00:00:00Z'];
  assert.ok(isPopular('x', { popularNames: new Set(), uploadTimes: old }));
  const young = ['2024-01-01T00:00:00Z', '2024-03-01T00:00:00Z'];
  assert.ok(!isPopular('x', { popularNames: new Set(), uploadTimes: young }));
});
