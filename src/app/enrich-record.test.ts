import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAllowlist } from '../adapters/detect/load-allowlist.ts';
import { evaluateRecord } from '../core/detect/evaluate-record.ts';
import { cmd, testRecord } from '../core/population/_test-records.ts';
import { createPopulationBuilder } from '../core/population/population.ts';
import type { BehaviourRecord } from '../core/record/schema.ts';
import { enrichRecord } from './enrich-record.ts';
import { populationFromStore } from './population-from-store.ts';
import type { RecordSource } from './record-source.ts';

const v1 = testRecord('ph-x', '1.0.0', { install: {} });
const v2 = testRecord('ph-x', '2.0.0', { install: { commands: [cmd(['id', '-un'])] } });

/** Records in memory, with only the methods an older store had (the fallbacks are exercised). */
function oldStore(records: BehaviourRecord[]): RecordSource {
  return {
    async getRecord(name, version) {
      return records.find((r) => r.package.name === name && r.package.version === version) ?? null;
    },
    async *exportRecords() {
      yield* records;
    },
  };
}

test('enrichRecord adds what changed since the previous analysed release', async () => {
  const enriched = await enrichRecord(v2, { store: oldStore([v1]), population: null });
  assert.deepEqual(enriched.diff_from_previous, {
    version: '1.0.0',
    new_hosts: [],
    new_dns: [],
    new_commands: ['id -un'],
    new_file_writes: [],
  });
  // A newer stored release is not "previous"; the first release gets no diff.
  const first = await enrichRecord(v1, { store: oldStore([v2]), population: null });
  assert.equal(first.diff_from_previous, undefined);
});

test('enrichRecord uses the store previousRecord when it has one', async () => {
  const store: RecordSource = {
    ...oldStore([]),
    async previousRecord(name, version) {
      assert.equal(name, 'ph-x');
      assert.equal(version, '2.0.0');
      return v1;
    },
  };
  const enriched = await enrichRecord(v2, { store, population: null });
  assert.equal(enriched.diff_from_previous?.version, '1.0.0');
});

test('the population from a store counts each project once; a missing popular list means none', async () => {
  const population = await populationFromStore(
    oldStore([v1, v2, testRecord('other', '1', { install: {} })]),
    {
      popularFile: '/nonexistent/pkghunt-popular.json',
    },
  );
  assert.equal(population.packages, 2);
  assert.equal(population.popularPackages, 0);
});

test('enrichRecord scores the verdict again with the population', async () => {
  const curl = { install: { commands: [cmd(['curl', '-s', '-o', '/tmp/x', 'http://cdn.example/x'])] } };
  const builder = createPopulationBuilder();
  for (let i = 0; i < 30; i++) builder.add(testRecord(`pop${i}`, '1', curl), { popular: i < 5 });
  const population = builder.build();
  const analysed = testRecord('ph-new', '1.0.0', curl);
  const verdict = evaluateRecord(analysed, { allowlist: await loadAllowlist() });
  const before = verdict.findings.find((f) => f.population === undefined && f.points > 0);
  assert.ok(before !== undefined, 'some rule fires on curl run by the package');
  const enriched = await enrichRecord({ ...analysed, verdict }, { store: oldStore([]), population });
  assert.equal(enriched.verdict?.population_adjusted, true);
  const common = enriched.verdict?.findings.find((f) => f.population?.startsWith('common'));
  assert.ok(common !== undefined, JSON.stringify(enriched.verdict?.findings));
  assert.ok((enriched.verdict?.score ?? 100) <= verdict.score);
  // No verdict yet (analysed before detection existed): nothing to re-score.
  const plain = await enrichRecord(analysed, { store: oldStore([]), population });
  assert.equal(plain.verdict, undefined);
});
