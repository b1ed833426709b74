import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readSourceFiles } from '../../src/adapters/archive/read-source-files.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
import { snapshotHost } from '../helpers/leftovers.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';

const EXIT_SUSPICIOUS = 3;
const DEMO_FILES = join(PROJECT_ROOT, '.cache/demo-index/files');

/** Run ids of the analyses here: leftovers are named after them (other runs may share the host). */
const runIds: string[] = [];

async function analyzeDemo(name: string, json = true) {
  const result = await runCli([
    'analyze',
    name,
    '--index-url',
    DEMO_INDEX_URL,
    ...(json ? ['--json'] : []),
    '--progress',
    'none',
    '--timeout',
    '120',
  ]);
  const record = json ? BehaviourRecord.parse(JSON.parse(result.stdout)) : null;
  if (record) runIds.push(record.run_id);
  return { result, record };
}

function rulesOf(record: BehaviourRecord): string[] {
  return [...new Set(record.verdict?.findings.map((f) => f.rule))];
}

describe('verdicts of the demo packages (real sandbox, strace, sinkhole, demo index)', () => {
  const malicious: { name: string; rules: string[] }[] = [
    { name: 'ph-demo-gist-dropper', rules: ['exec.download-execute', 'net.outbound', 'static.setup-code'] },
    { name: 'ph-demo-ci-exfil', rules: ['canary.exfil', 'canary.read', 'exec.tool', 'static.setup-code'] },
    {
      name: 'ph-demo-obfuscated',
      rules: ['recon.command', 'static.obfuscated-call', 'static.encoded-blob', 'combo.hidden-and-active'],
    },
  ];
  for (const { name, rules } of malicious) {
    test(`${name} is malicious, with ${rules.join(', ')}, and exits 3 with --json`, async () => {
      const { result, record } = await analyzeDemo(name);
      assert.equal(result.code, EXIT_SUSPICIOUS, result.stderr);
      assert.ok(record?.verdict, 'the record carries a verdict');
      assert.equal(record.verdict.level, 'malicious');
      for (const rule of rules)
        assert.ok(rulesOf(record).includes(rule), `${rule} in ${rulesOf(record).join(', ')}`);
      assert.ok((record.verdict.static_files ?? 0) > 0, 'the artifact fetched through the proxy was scanned');
      for (const f of record.verdict.findings) {
        for (const e of f.evidence) {
          // Every dynamic pointer resolves to something in the record itself.
          if (!e.pointer.startsWith('/')) continue;
          const target = e.pointer
            .split('/')
            .slice(1)
            .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], record);
          assert.notEqual(target, undefined, `${f.rule}: ${e.pointer}`);
        }
      }
    });
  }

  for (const name of ['ph-demo-pure', 'ph-demo-cext']) {
    test(`${name} is clean and exits 0`, async () => {
      const { result, record } = await analyzeDemo(name);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(record?.verdict?.level, 'clean', JSON.stringify(record?.verdict?.findings, null, 1));
      assert.ok((record?.verdict?.static_files ?? 0) > 0);
    });
  }

  test('the summary prints the verdict and its findings before the phases', async () => {
    const { result } = await analyzeDemo('ph-demo-gist-dropper', false);
    assert.equal(result.code, EXIT_SUSPICIOUS);
    const verdictAt = result.stdout.indexOf('Verdict: MALICIOUS');
    assert.ok(verdictAt >= 0, result.stdout.slice(0, 1000));
    assert.ok(result.stdout.indexOf('exec.download-execute') > verdictAt);
    assert.ok(verdictAt < result.stdout.indexOf('Phase install'));
  });

  test('the runs leave nothing behind on the host', () => {
    assert.ok(runIds.length > 0);
    const left = Object.values(snapshotHost())
      .flat()
      .filter((entry) => runIds.some((id) => String(entry).includes(id)));
    assert.deepEqual(left, []);
  });
});

test('readSourceFiles reads sdist and wheel sources in memory, setup.py first, within its limits', async () => {
  const sdist = await readSourceFiles(join(DEMO_FILES, 'ph_demo_gist_dropper-1.0.0.tar.gz'));
  assert.equal(sdist.files[0]?.path, 'ph_demo_gist_dropper-1.0.0/setup.py');
  assert.match(sdist.files[0]?.text ?? '', /malicious\.py/);
  assert.equal(sdist.truncated, false);
  const wheel = await readSourceFiles(join(DEMO_FILES, 'ph_test_import_payload-1.0.0-py3-none-any.whl'));
  assert.ok(wheel.files.some((f) => f.path.endsWith('.py')));
  const capped = await readSourceFiles(join(DEMO_FILES, 'setuptools-84.0.0-py3-none-any.whl'), {
    maxFiles: 5,
    maxFileBytes: 100,
  });
  assert.equal(capped.files.length, 5);
  assert.ok(capped.files.every((f) => Buffer.byteLength(f.text) <= 100));
  assert.equal(capped.truncated, true);
});
