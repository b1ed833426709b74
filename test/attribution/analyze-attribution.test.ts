import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Attribution, BehaviourRecord, Phase } from '../../src/core/record/schema.ts';
import { analyzeDemo } from '../helpers/analyze-demo.ts';

/**
 * The real `analyze` (sandbox, strace, sinkhole, demo index) on the attribution fixtures of
 * test/fixtures/packages: every command, connection and DNS query names the distribution that
 * caused it (docs/RECORD.md, "Attribution").
 */
/** Without a time limit of its own (the configured default). */
function analyze(name: string): Promise<BehaviourRecord> {
  return analyzeDemo(name, []);
}

function phaseOf(record: BehaviourRecord, name: 'install' | 'import'): Phase {
  const phase = record.phases[name];
  assert.ok(phase, `the record has an ${name} phase`);
  assert.equal(phase.status, 'completed', `${name}: ${phase.reason}`);
  return phase;
}

function label(a: Attribution | undefined): string {
  return a ? `${a.kind}:${a.distribution ?? '-'}` : 'none';
}

/** Every culprit of the commands whose argv[0] is `exe` (or whose whole line is `exe`). */
function commandCulprits(phase: Phase, exe: string): string[] {
  const matching = phase.commands.filter((c) => c.argv[0] === exe || c.argv.join(' ') === exe);
  assert.ok(matching.length > 0, `${exe} ran`);
  return [...new Set(matching.map((c) => label(c.by)))];
}

function culprits(items: readonly { by?: Attribution[] | undefined }[], what: string): string[] {
  assert.ok(items.length > 0, `${what} was recorded`);
  return [...new Set(items.flatMap((i) => (i.by ?? []).map(label)))];
}

function assertPipOwnWork(phase: Phase): void {
  for (const exe of ['lsb_release', 'uname']) {
    const own = phase.commands.filter((c) => c.argv[0] === exe && c.argv[1] !== '-r');
    for (const c of own) assert.equal(label(c.by), 'pip:-', `${c.argv.join(' ')} is pip's`);
  }
  const pips = phase.commands.filter((c) => c.argv.some((a) => a.endsWith('pip/__pip-runner__.py')));
  assert.ok(pips.length >= 2, 'pip and its build-environment installs ran');
  for (const c of pips) assert.equal(label(c.by), 'pip:-');
}

describe('attribution on real analyses', () => {
  test('a benign package depending on a malicious one: the dependency is the culprit', async () => {
    const record = await analyze('ph-test-dep-benign-top');
    const install = phaseOf(record, 'install');
    const dep = 'dependency:ph-test-dep-evil';
    assert.deepEqual(commandCulprits(install, 'id'), [dep]);
    assert.deepEqual(commandCulprits(install, 'curl'), [dep]);
    assert.deepEqual(commandCulprits(install, 'sh'), [dep]);
    const setupHost = install.connections.filter((c) => c.hostname === 'evil-dep-setup.example');
    assert.deepEqual(culprits(setupHost, 'the setup.py connection'), [dep]);
    assert.deepEqual(
      culprits(
        install.dns.filter((q) => q.name === 'evil-dep-setup.example'),
        'the setup.py DNS query',
      ),
      [dep],
    );
    // The package's own build hooks ran (and are the package's) but did nothing else.
    const own = install.commands.filter((c) => c.by?.distribution === 'ph-test-dep-benign-top');
    assert.ok(own.length >= 3, 'the package was built');
    for (const c of own) assert.match(c.argv[1] ?? '', /_in_process\.py$/);
    assertPipOwnWork(install);

    const imported = phaseOf(record, 'import');
    assert.deepEqual(
      imported.modules.map((m) => [m.module, m.status, m.distribution ?? null]),
      [
        ['ph_test_dep_evil', 'ok', 'ph-test-dep-evil'],
        ['ph_test_dep_benign_top', 'ok', null],
      ],
    );
    const importHost = imported.connections.filter((c) => c.hostname === 'evil-dep-import.example');
    assert.equal(importHost.length, 2, 'staged once on its own, once through the package');
    assert.deepEqual(culprits(importHost, 'the import-time connection'), [dep]);
    assert.deepEqual(
      culprits(
        imported.dns.filter((q) => q.name === 'evil-dep-import.example'),
        'the import-time DNS query',
      ),
      [dep],
    );
    assert.deepEqual(
      culprits(
        imported.files.filter((f) => f.path === '/tmp/ph-test-dep-evil-imported'),
        'the dropped file',
      ),
      [dep],
    );
    assert.deepEqual(record.dependencies, [
      { name: 'ph-test-dep-evil', version: '1.0.0', kind: 'dependency', artifact: 'sdist' },
      ...(record.dependencies ?? []).filter((d) => d.kind === 'build_dependency'),
    ]);
    assert.ok(record.dependencies?.some((d) => d.name === 'setuptools' && d.kind === 'build_dependency'));
  });

  test('a malicious package depending on benign ones with build steps: the package is the culprit', async () => {
    const record = await analyze('ph-test-dep-evil-top');
    const install = phaseOf(record, 'install');
    const pkg = 'package:ph-test-dep-evil-top';
    assert.deepEqual(commandCulprits(install, 'whoami'), [pkg]);
    assert.deepEqual(commandCulprits(install, 'curl'), [pkg]);
    assert.deepEqual(commandCulprits(install, 'x86_64-linux-gnu-gcc'), ['dependency:ph-demo-cext']);
    assert.deepEqual(commandCulprits(install, '/opt/venv/bin/python -c pass'), [
      'dependency:ph-test-dep-builder',
    ]);
    assert.deepEqual(
      culprits(
        install.connections.filter((c) => c.hostname === 'evil-top-setup.example'),
        'the setup.py connection',
      ),
      [pkg],
    );
    assert.deepEqual(culprits(install.dns, 'DNS during install'), [pkg]);
    assertPipOwnWork(install);

    const imported = phaseOf(record, 'import');
    // The builder's import runs `uname -r`; through the package's import it runs again: still the builder's.
    assert.deepEqual(commandCulprits(imported, 'uname'), ['dependency:ph-test-dep-builder']);
    assert.equal(imported.commands.filter((c) => c.argv[0] === 'uname').length, 2);
    assert.deepEqual(
      culprits(
        imported.connections.filter((c) => c.hostname === 'evil-top-import.example'),
        'the import-time connection',
      ),
      [pkg],
    );
    assert.deepEqual(
      culprits(
        imported.dns.filter((q) => q.name === 'evil-top-import.example'),
        'the import-time DNS query',
      ),
      [pkg],
    );
    assert.deepEqual(
      (record.dependencies ?? []).filter((d) => d.kind === 'dependency').map((d) => [d.name, d.artifact]),
      [
        ['ph-demo-cext', 'sdist'],
        ['ph-test-dep-builder', 'sdist'],
      ],
    );
  });
});
