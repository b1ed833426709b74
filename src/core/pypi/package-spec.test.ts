import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPkghuntError } from '../errors.ts';
import { normalizeName } from './normalize-name.ts';
import { parsePackageSpec } from './package-spec.ts';

function rejects(input: string): void {
  assert.throws(
    () => parsePackageSpec(input),
    (error: unknown) =>
      isPkghuntError(error) && error.code === 'INVALID_PACKAGE_SPEC' && error.hint !== undefined,
    input,
  );
}

test('normalizeName follows PEP 503', () => {
  assert.equal(normalizeName('Foo.Bar__baz--Qux'), 'foo-bar-baz-qux');
  assert.equal(normalizeName('requests'), 'requests');
});

test('parses NAME and NAME==VERSION', () => {
  assert.deepEqual(parsePackageSpec('Django_Rest.framework'), {
    kind: 'index',
    name: 'Django_Rest.framework',
    normalized: 'django-rest-framework',
    version: null,
  });
  assert.deepEqual(parsePackageSpec('requests==2.31.0'), {
    kind: 'index',
    name: 'requests',
    normalized: 'requests',
    version: '2.31.0',
  });
  const epoch = parsePackageSpec('x==1!2.0rc1+local.7');
  assert.equal(epoch.kind === 'index' && epoch.version, '1!2.0rc1+local.7');
});

test('paths and archive names are local', () => {
  assert.deepEqual(parsePackageSpec('./dist/pkg-1.0.tar.gz'), {
    kind: 'local',
    path: './dist/pkg-1.0.tar.gz',
  });
  assert.deepEqual(parsePackageSpec('pkg-1.0-py3-none-any.whl'), {
    kind: 'local',
    path: 'pkg-1.0-py3-none-any.whl',
  });
  assert.deepEqual(parsePackageSpec('/tmp/x'), { kind: 'local', path: '/tmp/x' });
});

test('refuses shell metacharacters, URLs, extras and ranges', () => {
  for (const input of [
    '',
    'foo;rm -rf /',
    'foo && true',
    'foo|bar',
    '$(id)',
    '`id`',
    'foo bar',
    ' foo',
    'foo\n',
    'foo>1.0',
    'foo>=1.0',
    'foo~=1.0',
    'foo===1.0',
    'foo[extra]',
    'foo[extra]==1.0',
    'foo @ https://example.invalid/x.tar.gz',
    'foo@1.0',
    'https://example.invalid/pkg.tar.gz',
    'git+https://example.invalid/repo',
    'file:///tmp/pkg.tar.gz',
    '-rrequirements.txt',
    '--index-url=x',
    '-e/tmp/x',
    'foo==',
    '==1.0',
    'foo==1.0;python_version<"4"',
    'foo==1.0 ',
    'foo==$(id)',
    '-foo',
    'foo-',
    '.foo',
    "foo'",
    'foo*',
  ]) {
    rejects(input);
  }
});
