import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listProjects } from '../src/adapters/registry/list-projects.ts';
import { type IndexForm, serveSyntheticIndex, syntheticName } from './index-sync-server.ts';

for (const form of ['json', 'html'] as const satisfies readonly IndexForm[]) {
  test(`the synthetic ${form} index lists every generated name, each normalising to a distinct project`, async () => {
    const count = 2500;
    const index = await serveSyntheticIndex(form, count);
    try {
      const seen = new Set<string>();
      const names: string[] = [];
      const result = await listProjects(index.url, {
        batchSize: 1000,
        async onBatch(batch) {
          for (const p of batch) {
            seen.add(p.normalized);
            names.push(p.name);
          }
        },
      });
      assert.equal(result.format, form);
      assert.equal(result.count, count);
      assert.equal(seen.size, count);
      assert.equal(names[7], syntheticName(7));
      assert.ok(seen.has('django-1-ext'), 'mixed case and separators are normalised');
    } finally {
      await index.close();
    }
  });
}
