import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkBpftrace } from '../../src/adapters/tracer/bpftrace.ts';
import { analyze } from '../../src/app/analyze.ts';
import { loadConfig } from '../../src/config.ts';
import { isBuildOwnFile } from '../../src/core/behaviour/build-own-files.ts';
import type { BehaviourRecord, Phase } from '../../src/core/record/schema.ts';
import { analyzeDemo } from '../helpers/analyze-demo.ts';
import { newLeftovers, snapshotHost } from '../helpers/leftovers.ts';
import { DEMO_INDEX_URL } from '../helpers/run-cli.ts';

const DEMO_PACKAGES = [
  'ph-demo-pure',
  'ph-demo-cext',
  'ph-demo-ci-exfil',
  'ph-demo-gist-dropper',
  'ph-demo-obfuscated',
];

function analyzeWith(name: string, tracer: 'strace' | 'bpftrace'): Promise<BehaviourRecord> {
  return analyzeDemo(name, ['--tracer', tracer, '--timeout', '120']);
}

/** Random parts of temp paths (pip's build dirs, mkstemp names, gcc's /tmp/ccXXXXXX) differ from run to run. */
function stablePath(path: string): string {
  return path
    .replace(/(pip-[a-z-]+?-|tmp)[a-z0-9_]{6,}/g, '$1*')
    .replace(/\/tmp\/cc[A-Za-z0-9]{6}/g, '/tmp/cc*');
}

/** What the two tracers must agree on: commands, connections, DNS, files beyond the build's own. */
function behaviour(phase: Phase | undefined): Record<string, string[]> {
  const sorted = (items: Iterable<string>) => [...new Set(items)].sort();
  return {
    status: [phase?.status ?? 'absent'],
    // argv[0] as a base name: for a #! script only the path of the caller's argv[0] is known to bpftrace.
    commands: sorted(
      (phase?.commands ?? []).map((c) =>
        stablePath([c.argv[0]?.split('/').pop() ?? '', ...c.argv.slice(1)].join(' ')),
      ),
    ),
    connections: sorted(
      (phase?.connections ?? []).map((c) => `${c.protocol} ${c.ip}:${c.port} ${c.hostname ?? ''}`),
    ),
    dns: sorted((phase?.dns ?? []).map((d) => `${d.name} ${d.type}`)),
    files: sorted(
      (phase?.files ?? [])
        .filter((f) => !isBuildOwnFile(f.path))
        .map((f) => `${stablePath(f.path)} ${[...f.ops].sort().join(',')}`),
    ),
    canaries: sorted((phase?.canaries ?? []).map((c) => `${c.canary} ${c.how}`)),
  };
}

describe('--tracer bpftrace against strace on the demo index (real sandbox, real tracers)', () => {
  const before = snapshotHost();

  for (const name of DEMO_PACKAGES) {
    test(`${name}: the same behaviour with bpftrace as with strace`, async () => {
      await checkBpftrace();
      const strace = await analyzeWith(name, 'strace');
      const bpf = await analyzeWith(name, 'bpftrace');
      assert.equal(bpf.sandbox.tracer, 'bpftrace');
      assert.equal(bpf.sandbox.tracer_lost_events, 0, 'bpftrace lost no events');
      for (const phase of ['install', 'import'] as const) {
        assert.deepEqual(
          behaviour(bpf.phases[phase]),
          behaviour(strace.phases[phase]),
          `${name} ${phase}: bpftrace vs strace`,
        );
      }
    });
  }

  test('two concurrent analyses in one process share one bpftrace and keep their behaviour apart', async () => {
    await checkBpftrace();
    const config = loadConfig(process.env);
    const run = (name: string) =>
      analyze(name, { config, indexUrl: DEMO_INDEX_URL, tracer: 'bpftrace', timeoutS: 120 });
    const [exfil, dropper] = await Promise.all([run('ph-demo-ci-exfil'), run('ph-demo-gist-dropper')]);
    const lines = (r: BehaviourRecord) =>
      [...(r.phases.install?.commands ?? []), ...(r.phases.import?.commands ?? [])].map((c) =>
        c.argv.join(' '),
      );
    assert.ok(
      lines(exfil).some((l) => l.startsWith('nc ') && l.includes('5566')),
      lines(exfil).join('\n'),
    );
    assert.ok(
      lines(dropper).some((l) => l.includes('/tmp/malicious.py')),
      lines(dropper).join('\n'),
    );
    assert.ok(!lines(exfil).some((l) => l.includes('malicious')), 'the dropper is not in the exfil record');
    assert.ok(!lines(dropper).some((l) => l.includes('5566')), 'the exfil is not in the dropper record');
    for (const r of [exfil, dropper]) {
      assert.equal(r.phases.install?.status, 'completed');
      assert.equal(r.sandbox.tracer_lost_events, 0);
    }
  });

  test('nothing is left behind', async () => {
    assert.deepEqual(await newLeftovers(before), []);
  });
});
