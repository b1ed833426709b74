import assert from 'node:assert/strict';
import { BehaviourRecord } from '../../src/core/record/schema.ts';
import { DEMO_INDEX_URL, runCli } from './run-cli.ts';

/**
 * `bin/pkghunt analyze NAME --json` on the demo index, with `extra` options (default: a 120 s
 * time limit); the record, parsed.
 */
export async function analyzeDemo(
  name: string,
  extra: readonly string[] = ['--timeout', '120'],
): Promise<BehaviourRecord> {
  const result = await runCli([
    'analyze',
    name,
    '--index-url',
    DEMO_INDEX_URL,
    '--json',
    '--progress',
    'none',
    ...extra,
  ]);
  // 3: the verdict is suspicious or malicious (which one is checked in test/detect).
  assert.ok(
    result.code === 0 || result.code === 3,
    `analyze ${[name, ...extra].join(' ')} exited ${result.code}: ${result.stderr}${result.stdout.slice(0, 2000)}`,
  );
  return BehaviourRecord.parse(JSON.parse(result.stdout));
}
