import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_ALLOWLIST } from '../detect/allowlist.ts';
import { evaluateRecord } from '../detect/evaluate-record.ts';
import { cmd, conn, file, PKG, testRecord } from '../population/_test-records.ts';
import type { BehaviourRecord, Phase } from '../record/schema.ts';
import type { Decision } from './decision.ts';
import { buildTriageBaseline, EMPTY_TRIAGE_BASELINE, evidenceKey } from './triage-baseline.ts';

/** A release that connects to `hosts` (port 443) and downloads its own tarball with curl. */
function release(
  name: string,
  version: string,
  hosts: string[],
  extra: Partial<Phase> = {},
): BehaviourRecord {
  const record = testRecord(name, version, {
    install: {
      connections: hosts.map((h, i) => conn(h, `127.53.0.${i + 1}`, 443, [PKG])),
      commands: [
        cmd(['curl', '-o', `/tmp/tmpab12cd34/${name}-${version}.tgz`, `https://${hosts[0]}/x`], PKG),
      ],
      ...extra,
    },
  });
  return { ...record, verdict: evaluateRecord(record, { allowlist: EMPTY_ALLOWLIST }) };
}

let nextId = 1;
function decision(
  project: string,
  version: string,
  label: Decision['label'],
  rule: string | null = null,
): Decision {
  return {
    id: nextId++,
    project,
    version,
    resultId: null,
    rule,
    label,
    comment: '',
    analyst: 'ana',
    decidedAt: '2026-01-01T00:00:00Z',
  };
}

const v1 = release('ph-net', '1.0', ['good.example']);
const records = new Map([['ph-net==1.0', v1]]);

function score(record: BehaviourRecord, history: Decision[]) {
  const baseline = buildTriageBaseline(history, records);
  return evaluateRecord(record, { allowlist: EMPTY_ALLOWLIST, dismiss: baseline.dismiss });
}

test('a false positive on a rule dismisses the same behaviour of the same rule in later releases', () => {
  assert.equal(v1.verdict?.level, 'suspicious');
  assert.deepEqual(v1.verdict?.findings.map((f) => f.rule).sort(), ['exec.tool', 'net.outbound']);
  const fp = [decision('ph-net', '1.0', 'false_positive', 'net.outbound')];
  const v2 = score(release('ph-net', '2.0', ['good.example']), fp);
  const outbound = v2.findings.find((f) => f.rule === 'net.outbound');
  assert.equal(outbound?.points, 0);
  assert.match(outbound?.dismissed ?? '', /false positive in triage \(#\d+ on 1\.0 by ana\)/);
  // The other rule keeps its weight: only the dismissed rule is affected.
  assert.equal(v2.findings.find((f) => f.rule === 'exec.tool')?.points, 15);
  assert.equal(v2.score, 15);
  assert.equal(v2.level, 'clean');
});

test('a dismissal does not cover new behaviour, another project, or a project later confirmed malicious', () => {
  const fp = decision('ph-net', '1.0', 'false_positive', 'net.outbound');
  const newHost = score(release('ph-net', '2.0', ['good.example', 'collector.example']), [fp]);
  assert.equal(newHost.findings.find((f) => f.rule === 'net.outbound')?.dismissed, undefined);
  const otherProject = score(release('ph-other', '1.0', ['good.example']), [fp]);
  assert.equal(otherProject.findings.find((f) => f.rule === 'net.outbound')?.dismissed, undefined);
  const npmTwin = release('ph-net', '2.0', ['good.example']);
  npmTwin.package.ecosystem = 'npm';
  const otherEcosystem = score(npmTwin, [fp]);
  assert.equal(otherEcosystem.findings.find((f) => f.rule === 'net.outbound')?.dismissed, undefined);
  const compromised = score(release('ph-net', '2.0', ['good.example']), [
    fp,
    decision('ph-net', '3.0', 'confirmed_malicious'),
  ]);
  assert.equal(compromised.findings.find((f) => f.rule === 'net.outbound')?.dismissed, undefined);
  // A later decision on the same finding replaces the false positive.
  const reviewed = score(release('ph-net', '2.0', ['good.example']), [
    fp,
    decision('ph-net', '1.0', 'needs_review', 'net.outbound'),
  ]);
  assert.equal(reviewed.findings.find((f) => f.rule === 'net.outbound')?.dismissed, undefined);
});

test('a release-level false positive covers each of its findings; canary hits are never dismissed', () => {
  const v2 = score(release('ph-net', '2.0', ['good.example']), [decision('ph-net', '1.0', 'false_positive')]);
  assert.ok(v2.findings.every((f) => f.dismissed !== undefined && f.points === 0));
  assert.equal(v2.level, 'clean');

  const canary = {
    canary: 'aws-credentials',
    how: 'read',
    evidence: '/home/builder/.aws/credentials',
    by: [PKG],
  };
  const thief = (version: string) =>
    release('ph-net', version, ['good.example'], {
      files: [file('/home/builder/.aws/credentials', ['read'], [PKG])],
      canaries: [canary] as Phase['canaries'],
    });
  const withCanary = new Map([['ph-net==1.0', thief('1.0')]]);
  const baseline = buildTriageBaseline([decision('ph-net', '1.0', 'false_positive')], withCanary);
  const again = evaluateRecord(thief('2.0'), { allowlist: EMPTY_ALLOWLIST, dismiss: baseline.dismiss });
  const read = again.findings.find((f) => f.rule === 'canary.read');
  assert.ok(read, JSON.stringify(again.findings.map((f) => f.rule)));
  assert.equal(read.dismissed, undefined);
  assert.ok(read.points > 0);
});

test('evidence keys ignore the version and temp names but not the destination', () => {
  const a = release('ph-net', '1.0', ['good.example']);
  const b = release('ph-net', '2.0', ['good.example']);
  const pointer = (p: string) => ({ pointer: p, text: '' });
  assert.equal(
    evidenceKey(a, pointer('/phases/install/commands/0')),
    evidenceKey(b, pointer('/phases/install/commands/0')),
  );
  assert.equal(
    evidenceKey(a, pointer('/phases/install/connections/0')),
    evidenceKey(b, pointer('/phases/install/connections/0')),
  );
  const c = release('ph-net', '2.0', ['evil.example']);
  assert.notEqual(
    evidenceKey(a, pointer('/phases/install/connections/0')),
    evidenceKey(c, pointer('/phases/install/connections/0')),
  );
  assert.equal(evidenceKey(a, pointer('/phases/install/canaries/0')), null);
  assert.equal(evidenceKey(a, pointer('/phases/install/commands/7')), null, 'no such command');
  assert.equal(
    evidenceKey(a, { pointer: 'ph-net-1.0/setup.py:12', text: 'exec(b64decode(x))' }),
    evidenceKey(b, { pointer: 'ph-net-2.0/setup.py:14', text: 'exec(b64decode(x))' }),
    'static evidence: same file and line text, wherever the line moved',
  );
});

test('confirmed-malicious releases are listed for the population; no decisions dismiss nothing', () => {
  const baseline = buildTriageBaseline([decision('ph-evil', '1.0', 'confirmed_malicious')], new Map());
  assert.deepEqual([...baseline.malicious], ['ph-evil==1.0']);
  assert.equal(EMPTY_TRIAGE_BASELINE.dismiss(v1.verdict?.findings[0] ?? ({} as never), v1), null);
});
