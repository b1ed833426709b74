import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeedPosition } from './feed-position.ts';
import { type PackumentVersion, planPackumentPoll } from './packument-position.ts';

const DAY = 24 * 3600_000;

function v(version: string, published: string | null): PackumentVersion {
  return { version, published };
}

const history = [v('1.0.0', '2024-01-01T00:00:00.000Z'), v('1.1.0', '2024-03-01T00:00:00.000Z')];

test('first poll of a package: its latest only, the rest remembered', () => {
  const plan = planPackumentPoll(null, history, { latest: '1.1.0' });
  assert.deepEqual(plan.fresh, [v('1.1.0', '2024-03-01T00:00:00.000Z')]);
  assert.equal(plan.next.newestPublished, '2024-03-01T00:00:00.000Z');
  const again = planPackumentPoll(plan.next, history, { latest: '1.1.0' });
  assert.deepEqual(again.fresh, [], 'nothing new the second time');
  assert.deepEqual(again.next, plan.next);
});

test('later polls: every version not seen before, pre-releases too, oldest first', () => {
  const start = planPackumentPoll(null, history, { latest: '1.1.0' }).next;
  const now = [
    ...history,
    v('2.0.0-rc.1', '2024-03-02T00:00:00.000Z'),
    v('1.1.1', '2024-03-03T00:00:00.000Z'),
  ];
  const plan = planPackumentPoll(start, now, { latest: '1.1.1' });
  assert.deepEqual(
    plan.fresh.map((x) => x.version),
    ['2.0.0-rc.1', '1.1.1'],
  );
  assert.equal(plan.next.newestPublished, '2024-03-03T00:00:00.000Z');
});

test('a version that turns up late within the look-back is caught; older history is not news', () => {
  const start: FeedPosition = {
    newestPublished: '2024-03-10T00:00:00.000Z',
    recentKeys: ['1.2.0'],
    serial: null,
  };
  const late = v('1.1.9', new Date(Date.parse('2024-03-10T00:00:00.000Z') - 2 * DAY).toISOString());
  const ancient = v('0.1.0', '2023-01-01T00:00:00.000Z');
  const plan = planPackumentPoll(start, [ancient, late, v('1.2.0', '2024-03-10T00:00:00.000Z')], {
    latest: '1.2.0',
  });
  assert.deepEqual(
    plan.fresh.map((x) => x.version),
    ['1.1.9'],
  );
  assert.ok(plan.next.recentKeys.includes('1.1.9'));
  assert.ok(!plan.next.recentKeys.includes('0.1.0'), 'history beyond the look-back is not remembered');
});

test('a package the registry does not have yet: every version once it appears', () => {
  const absent = planPackumentPoll(null, null, { latest: null });
  assert.deepEqual(absent.fresh, []);
  assert.deepEqual(absent.next, { newestPublished: null, recentKeys: [], serial: null });
  const appeared = planPackumentPoll(absent.next, history, { latest: '1.1.0' });
  assert.deepEqual(
    appeared.fresh.map((x) => x.version),
    ['1.0.0', '1.1.0'],
  );
});
