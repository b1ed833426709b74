import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listDependencies } from './list-dependencies.ts';

test('installed besides the package are dependencies; fetched but not installed are build dependencies', () => {
  const deps = listDependencies({
    target: 'Ph_Test_Top',
    installed: [
      { name: 'ph-test-top', version: '1.0.0' },
      { name: 'ph-demo-cext', version: '1.0.0' },
      { name: 'six', version: '1.16.0' },
    ],
    fetched: [
      'ph_test_top-1.0.0.tar.gz',
      'ph-demo-cext-1.0.0.tar.gz',
      'setuptools-84.0.0-py3-none-any.whl',
      'setuptools-84.0.0-py3-none-any.whl',
    ],
  });
  assert.deepEqual(deps, [
    { name: 'ph-demo-cext', version: '1.0.0', kind: 'dependency', artifact: 'sdist' },
    { name: 'six', version: '1.16.0', kind: 'dependency', artifact: null },
    { name: 'setuptools', version: '84.0.0', kind: 'build_dependency', artifact: 'wheel' },
  ]);
});
