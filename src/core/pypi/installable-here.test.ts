import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitsPython, type InstallTarget, wheelFits } from './installable-here.ts';
import { installableReleases } from './installable-releases.ts';
import type { ProjectFile, ProjectPage } from './project-page.ts';

const HERE: InstallTarget = { python: '3.11.7', arch: 'x86_64', glibc: [2, 36] };

function file(
  filename: string,
  requiresPython: string | null = null,
  yanked: false | string = false,
): ProjectFile {
  return { filename, url: `http://127.0.0.1:1/f/${filename}`, hashes: {}, requiresPython, yanked };
}

function page(files: ProjectFile[], name = 'numpy'): ProjectPage {
  return { name, files };
}

test('Requires-Python: admitted, refused, missing and unparsable', () => {
  assert.equal(admitsPython('>=3.9', '3.11.7'), true);
  assert.equal(admitsPython('>=3.12', '3.11.7'), false);
  assert.equal(admitsPython('>=3.8,!=3.11.*', '3.11.7'), false);
  assert.equal(admitsPython(null, '3.11.7'), true);
  assert.equal(admitsPython('>=3.6.*', '3.11.7'), true, 'pip ignores a specifier it cannot parse');
});

test('wheel tags: pure, abi3, exact CPython, manylinux by glibc, other platforms', () => {
  assert.ok(wheelFits('six-1.16.0-py2.py3-none-any.whl', HERE));
  assert.ok(wheelFits('x-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl', HERE));
  assert.ok(wheelFits('x-1-cp38-abi3-manylinux2014_x86_64.whl', HERE));
  assert.ok(!wheelFits('x-1-cp312-cp312-manylinux_2_17_x86_64.whl', HERE));
  assert.ok(
    !wheelFits('x-1-cp312-abi3-manylinux_2_17_x86_64.whl', HERE),
    'abi3 needs a tag no newer than 3.11',
  );
  assert.ok(!wheelFits('x-1-cp311-cp311-manylinux_2_39_x86_64.whl', HERE), 'newer glibc than the host');
  assert.ok(!wheelFits('x-1-cp311-cp311-musllinux_1_2_x86_64.whl', HERE));
  assert.ok(!wheelFits('x-1-cp311-cp311-win_amd64.whl', HERE));
  assert.ok(!wheelFits('x-1-cp311-cp311-manylinux2014_aarch64.whl', HERE));
  assert.ok(!wheelFits('x-1-py2-none-any.whl', HERE));
});

test('the hunt picks the newest release installable here, not the index newest', () => {
  const numpy = page([
    file('numpy-2.3.0-cp312-cp312-manylinux_2_28_x86_64.whl', '>=3.12'),
    file('numpy-2.3.0.tar.gz', '>=3.12'),
    file('numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.whl', '>=3.10'),
    file('numpy-2.2.6.tar.gz', '>=3.10'),
    file('numpy-2.1.0.tar.gz', '>=3.10'),
  ]);
  const plan = installableReleases(numpy, { target: HERE });
  assert.equal(plan.kind, 'releases');
  assert.deepEqual(plan.kind === 'releases' ? plan.releases.map((r) => [r.version, r.latest]) : [], [
    ['2.2.6', true],
  ]);
  // Without a target the index newest stays the choice (analyze NAME, the old behaviour).
  const anywhere = installableReleases(numpy);
  assert.equal(anywhere.kind === 'releases' ? anywhere.releases[0]?.version : null, '2.3.0');
  // With every version, the releases that cannot install here are left out too.
  const all = installableReleases(numpy, { target: HERE, allVersions: true });
  assert.deepEqual(all.kind === 'releases' ? all.releases.map((r) => r.version) : [], ['2.2.6', '2.1.0']);
});

test('a wheel-only release with no fitting wheel is skipped; an sdist is enough', () => {
  const plan = installableReleases(
    page(
      [
        file('fast-3.0-cp312-cp312-manylinux_2_17_x86_64.whl'),
        file('fast-2.0-cp311-cp311-win_amd64.whl'),
        file('fast-1.0.tar.gz'),
      ],
      'fast',
    ),
    { target: HERE },
  );
  assert.equal(plan.kind === 'releases' ? plan.releases[0]?.version : null, '1.0');
});

test('a project with no release installable here is recorded with the reason', () => {
  const plan = installableReleases(
    page([file('new-1.0-py3-none-any.whl', '>=3.13'), file('new-1.0.tar.gz', '>=3.13')], 'new'),
    { target: HERE },
  );
  assert.equal(plan.kind, 'none');
  assert.match(
    plan.kind === 'none' ? plan.reason : '',
    /no release installable here.*1\.0.*requires Python >=3\.13.*3\.11/,
  );
  const yankedOnly = installableReleases(page([file('old-1.0.tar.gz', null, 'broken')], 'old'), {
    target: HERE,
  });
  assert.equal(yankedOnly.kind, 'none');
});
