import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPostgresStore } from '../../src/adapters/store/postgres-store.ts';
import { openPostgresWatchState } from '../../src/adapters/store/watch-state-postgres.ts';
import type { Alert } from '../../src/core/feed/alert.ts';
import { startTestPostgres } from '../helpers/postgres.ts';

const alert: Alert = {
  key: 'p==1.0:malicious',
  project: 'p',
  version: '1.0',
  level: 'malicious',
  score: 90,
  findings: [],
  url: null,
  downloads: null,
  analysedAt: '2024-01-01T00:00:00Z',
};

test('watch state on PostgreSQL: positions, releases once, outbox unique, leased, sent once', async (t) => {
  const pg = await startTestPostgres();
  t.after(() => pg.stop());
  const store = await openPostgresStore(pg.url);
  const state = await openPostgresWatchState(pg.url);
  t.after(async () => {
    await state.close();
    await store.close();
  });
  assert.equal(await state.getPosition('s'), null);
  await state.savePosition('s', {
    newestPublished: '2024-01-01T00:00:00Z',
    recentKeys: ['p==1.0'],
    serial: 5,
  });
  assert.equal((await state.getPosition('s'))?.serial, 5);
  const release = { name: 'p', version: '1.0', published: '2024-01-01T00:00:00Z', source: 'rss' as const };
  assert.equal((await state.recordSeen([release])).length, 1);
  assert.equal((await state.recordSeen([release])).length, 0, 'a release is recorded once');
  assert.equal(
    await state.addAlerts({ project: 'p', version: '1.0' }, [{ alert, destination: 'generic:a' }]),
    1,
  );
  assert.equal(
    await state.addAlerts({ project: 'p', version: '1.0' }, [{ alert, destination: 'generic:a' }]),
    0,
  );
  const due = await state.claimDue(['generic:a'], { leaseMs: 60_000, limit: 10 });
  assert.equal(due.length, 1);
  assert.equal((await state.claimDue(['generic:a'], { leaseMs: 60_000, limit: 10 })).length, 0, 'leased');
  await state.markFailed(due[0]?.id ?? 0, { error: 'HTTP 500', retryAfterMs: 0 });
  const again = await state.claimDue(['generic:a'], { leaseMs: 60_000, limit: 10 });
  assert.equal(again[0]?.attempts, 1);
  await state.markSent(again[0]?.id ?? 0);
  const counts = await state.counts();
  assert.equal(counts.seen, 1);
  assert.equal(counts.alertsSent, 1);
  assert.equal(counts.alertsPending, 0);
});
