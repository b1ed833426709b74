import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conn, testRecord } from '../population/_test-records.ts';
import type { Finding, Verdict } from '../record/schema.ts';
import { falsePositiveReport, type PopularOutcome } from './false-positives.ts';
import { categoryOf, sampleOutcome, scoreOutcome, unanalysedSample } from './outcome.ts';
import { recallReport } from './recall.ts';
import { evaluateTargets, renderEvalMarkdown } from './render-eval.ts';

function finding(rule: string, phase: Finding['phase'], points: number): Finding {
  return {
    rule,
    severity: points >= 100 ? 'critical' : points >= 40 ? 'high' : 'medium',
    title: rule,
    attack: null,
    phase,
    culprit: null,
    evidence: [{ pointer: '/x', text: `${rule} evidence` }],
    points,
  };
}
function verdict(level: Verdict['level'], findings: Finding[]): Verdict {
  return {
    level,
    score: findings.reduce((s, f) => s + f.points, 0),
    findings,
    static_files: 1,
    population_adjusted: false,
  };
}

const networkSample = sampleOutcome(
  testRecord('net', '1', { install: { connections: [conn('x.example', '10.0.0.1', 80)] } }),
  verdict('malicious', [finding('net.outbound', 'install', 40), finding('exec.shell', 'install', 40)]),
);
const staticOnly = sampleOutcome(
  testRecord('win', '1', { install: { status: 'failed', stderr_tail: "KeyError: 'APPDATA'" } }),
  verdict('suspicious', [finding('static.powershell-encoded', 'static', 40)]),
);
const missedDep = sampleOutcome(
  testRecord('dep', '1', {
    install: { status: 'failed', stderr_tail: "ModuleNotFoundError: No module named 'requests'" },
  }),
  verdict('clean', [finding('static.install-hook', 'static', 15)]),
);
const silent = sampleOutcome(testRecord('quiet', '1', { install: {}, import: {} }), verdict('clean', []));

test('categories follow the rule families', () => {
  assert.equal(categoryOf('net.oob-service'), 'network');
  assert.equal(categoryOf('recon.command'), 'commands');
  assert.equal(categoryOf('static.long-string'), 'static');
  assert.equal(categoryOf('tamper.logs'), 'other');
});

test('recall counts each threshold, the Linux-observable subset and the misses with their reasons', () => {
  const report = recallReport([networkSample, staticOnly, missedDep, silent, unanalysedSample('gone', '2')]);
  assert.equal(report.samples, 5);
  assert.equal(report.analysed, 4);
  // net (observable) and quiet (ran, showed nothing) are Linux-observable; win, dep and gone are not.
  assert.equal(report.linuxObservable, 2);
  assert.deepEqual(report.at.malicious.overall, { hits: 1, total: 5, rate: 0.2 });
  assert.deepEqual(report.at.suspicious.overall, { hits: 2, total: 5, rate: 0.4 });
  assert.deepEqual(report.at.suspicious.linuxObservable, { hits: 1, total: 2, rate: 0.5 });
  assert.deepEqual(report.at.suspicious.byPhase, { install: 1, import: 0, staticOnly: 1 });
  assert.equal(report.at.suspicious.byCategory.network, 1);
  assert.equal(report.at.suspicious.byCategory.commands, 1);
  assert.equal(report.at.suspicious.byCategory.static, 1);
  assert.equal(report.at.malicious.byCategory.static, 0);
  assert.deepEqual(
    report.at.suspicious.misses.map((m) => [m.name, m.reason]),
    [
      ['dep', 'missing_dependency'],
      ['quiet', 'not_detected'],
      ['gone', 'no_record'],
    ],
  );
  assert.deepEqual(report.at.suspicious.misses[0]?.rules, ['static.install-hook']);
  assert.equal(report.observed.network, 1);
  assert.equal(report.observed.none, 3);
});

test('false positives count only installed packages; failures and pending ones are listed apart', () => {
  const ok = (name: string, v: Verdict, install = 'completed'): PopularOutcome => ({
    ...scoreOutcome(testRecord(name, '1', { install: {} }), v),
    state: 'analysed',
    installStatus: install,
    importStatus: 'completed',
  });
  const outcomes: PopularOutcome[] = [
    ok('a', verdict('clean', [])),
    ok(
      'b',
      verdict('suspicious', [
        finding('exec.tool', 'install', 15),
        finding('static.long-string', 'static', 5),
      ]),
    ),
    ok('c', verdict('malicious', [finding('net.outbound', 'import', 100)])),
    ok('d', verdict('clean', [])),
    ok('e', verdict('suspicious', [finding('exec.tool', 'install', 20)]), 'failed'),
    { state: 'failed', name: 'torch', version: '2.0', reason: 'disk limit' },
    { state: 'not_analysed', name: 'zzz', reason: 'scheduled, not analysed yet' },
  ];
  const report = falsePositiveReport(outcomes);
  assert.equal(report.listed, 7);
  assert.equal(report.analysed, 5);
  assert.equal(report.installed, 4);
  assert.deepEqual(report.at.malicious, { hits: 1, total: 4, rate: 0.25 });
  assert.deepEqual(report.at.suspicious, { hits: 2, total: 4, rate: 0.5 });
  assert.deepEqual(
    report.falsePositives.map((p) => p.name),
    ['c', 'b', 'e'],
  );
  assert.deepEqual(
    report.falsePositives[1]?.fired.map((f) => f.rule),
    ['exec.tool', 'static.long-string'],
  );
  assert.deepEqual(report.rules[0], { rule: 'exec.tool', packages: 2 });
  assert.deepEqual(
    report.installFailed.map((p) => p.name),
    ['e'],
  );
  assert.deepEqual(
    report.failed.map((p) => p.name),
    ['torch'],
  );
  assert.deepEqual(
    report.notAnalysed.map((p) => p.name),
    ['zzz'],
  );

  const targets = evaluateTargets(recallReport([networkSample, silent]), report);
  assert.deepEqual(
    targets.map((t) => t.met),
    [false, false, false, false],
  );
  const md = renderEvalMarkdown({
    generatedAt: '2026-01-02T00:00:00Z',
    command: 'bin/pkghunt eval',
    machine: 'test',
    population: null,
    recall: recallReport([networkSample, silent]),
    falsePositives: report,
    targets,
  });
  assert.match(md, /\| whole set \(static included\) \| 50\.0% \(1\/2\) \| 50\.0% \(1\/2\) \|/);
  assert.match(md, /\| malicious \| 25\.0% \(1\/4\) \|/);
  assert.match(md, /- \*\*c 1\*\*: malicious, score 100/);
  assert.match(md, /- torch 2\.0: disk limit/);
});
