import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Verdict } from '../record/schema.ts';
import { cmd, conn, record, repoAllowlist } from './_test-helpers.ts';
import { evaluateRecord, SEVERITY_POINTS, THRESHOLDS } from './evaluate-record.ts';
import type { PopulationView } from './population-view.ts';

const allowlist = repoAllowlist();

function population(
  counts: Record<string, { packages: number; popularPackages: number }>,
  packages = 100,
): PopulationView {
  return { packages, share: (kind, key) => counts[`${kind}:${key}`] ?? { packages: 0, popularPackages: 0 } };
}

test('an empty record is clean with score 0 and the verdict fits the schema', () => {
  const verdict = evaluateRecord(record({ install: {} }), { allowlist });
  assert.deepEqual(
    { level: verdict.level, score: verdict.score, n: verdict.findings.length },
    { level: 'clean', score: 0, n: 0 },
  );
  assert.ok(Verdict.safeParse(verdict).success);
});

test('a rule counts once however many findings it has; one medium stays clean, medium + low is suspicious', () => {
  const oneHost = record({ install: { connections: [conn('a.example', '127.53.0.1', 80)] } });
  assert.equal(evaluateRecord(oneHost, { allowlist }).score, SEVERITY_POINTS.medium);
  assert.equal(evaluateRecord(oneHost, { allowlist }).level, 'clean');
  const twoHosts = record({
    install: { connections: [conn('a.example', '127.53.0.1', 80), conn('b.example', '127.53.0.2', 80)] },
  });
  assert.equal(evaluateRecord(twoHosts, { allowlist }).score, SEVERITY_POINTS.medium);
  const withShell = record({
    install: { connections: [conn('a.example', '127.53.0.1', 80)], commands: [cmd(['sh', '-c', 'true'])] },
  });
  const verdict = evaluateRecord(withShell, { allowlist });
  assert.equal(verdict.score, SEVERITY_POINTS.medium + SEVERITY_POINTS.low);
  assert.ok(verdict.score >= THRESHOLDS.suspicious);
  assert.equal(verdict.level, 'suspicious');
});

test('population: common among popular packages halves, rare raises, small populations change nothing', () => {
  const r = record({ install: { connections: [conn('cdn.example', '127.53.0.1', 443)] } });
  const common = evaluateRecord(r, {
    allowlist,
    population: population({ 'host:cdn.example': { packages: 30, popularPackages: 10 } }),
  });
  assert.equal(common.score, Math.round(SEVERITY_POINTS.medium * 0.5));
  assert.match(common.findings[0]?.population ?? '', /common/);
  assert.equal(common.population_adjusted, true);
  const rare = evaluateRecord(r, {
    allowlist,
    population: population({ 'host:cdn.example': { packages: 1, popularPackages: 0 } }),
  });
  assert.ok(rare.score > SEVERITY_POINTS.medium);
  const tiny = evaluateRecord(r, { allowlist, population: population({}, 5) });
  assert.equal(tiny.score, SEVERITY_POINTS.medium);
  assert.equal(tiny.population_adjusted, false);
});

test('population never softens a critical finding', () => {
  const r = record({
    install: { canaries: [{ canary: 'c', how: 'dns', evidence: 'DNS A query for tok.x.example' }] },
  });
  const verdict = evaluateRecord(r, { allowlist, population: population({}, 1000) });
  assert.equal(verdict.level, 'malicious');
});

test('scoring again keeps the static findings already in the record', () => {
  const r = record({ install: {} });
  const first = evaluateRecord(r, {
    allowlist,
    staticFiles: 2,
    staticFindings: [
      {
        rule: 'static.exec-decoded',
        severity: 'high',
        title: 't',
        attack: null,
        phase: 'static',
        culprit: null,
        evidence: [{ pointer: 'setup.py:3', text: 'exec(...)' }],
      },
    ],
  });
  assert.equal(first.findings[0]?.culprit?.distribution, 'pkg');
  const again = evaluateRecord({ ...r, verdict: first }, { allowlist });
  assert.deepEqual(
    again.findings.map((f) => f.rule),
    ['static.exec-decoded'],
  );
  assert.equal(again.static_files, 2);
  assert.equal(again.score, first.score);
});

test('combo.hook-and-network: an install hook plus the package own connection or DNS during install is malicious', () => {
  const hook = {
    rule: 'static.install-hook',
    severity: 'low' as const,
    title: 'cmdclass',
    attack: null,
    phase: 'static' as const,
    culprit: null,
    evidence: [{ pointer: 'x-1/setup.py:9', text: "cmdclass={'install': Hook}" }],
  };
  const own = { kind: 'package' as const, distribution: 'pkg', method: 'process-tree' as const };
  const dep = { kind: 'dependency' as const, distribution: 'lib', method: 'process-tree' as const };
  const withOwnDns = record({
    install: {
      dns: [
        { name: 'c2.example', type: 'A', time: 0, answer: '127.53.0.1', server: '127.53.0.1', by: [own] },
      ],
    },
  });
  const verdict = evaluateRecord(withOwnDns, { allowlist, staticFindings: [hook] });
  const combo = verdict.findings.find((f) => f.rule === 'combo.hook-and-network');
  assert.equal(verdict.level, 'malicious');
  assert.equal(combo?.severity, 'critical');
  assert.deepEqual(
    combo?.evidence.map((e) => e.pointer),
    ['x-1/setup.py:9', '/phases/install/dns/0'],
  );
  // Without the hook, or when a dependency reached out, or during import: no combo.
  assert.equal(evaluateRecord(withOwnDns, { allowlist, staticFindings: [] }).level, 'clean');
  const byDependency = record({
    install: { connections: [conn('x.example', '127.53.0.1', 80, { by: [dep] })] },
  });
  assert.ok(
    !evaluateRecord(byDependency, { allowlist, staticFindings: [hook] }).findings.some(
      (f) => f.rule === 'combo.hook-and-network',
    ),
  );
  const atImport = record({ import: { connections: [conn('x.example', '127.53.0.1', 80, { by: [own] })] } });
  assert.ok(
    !evaluateRecord(atImport, { allowlist, staticFindings: [hook] }).findings.some(
      (f) => f.rule === 'combo.hook-and-network',
    ),
  );
});
