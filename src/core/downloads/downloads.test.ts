import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDownloadsQuery, DOWNLOADS_TABLE, renderDownloadsQuery } from './bigquery-query.ts';
import {
  countFromOverall,
  countFromRecent,
  OverallResponse,
  RecentResponse,
  statsEndpoint,
} from './stats-api.ts';

test('the BigQuery query is parameterised: the name never enters the SQL text', () => {
  const hostile = "Evil_Pkg'; DROP TABLE x; --";
  const q = buildDownloadsQuery(hostile, { days: 30 });
  assert.ok(!q.sql.includes('Evil'), 'name not in the SQL');
  assert.ok(!q.sql.includes("'"), 'no quoted literal in the SQL');
  assert.match(q.sql, /file\.project = @project/);
  assert.deepEqual(q.params, { project: "evil-pkg'; drop table x; -", days: 30 });
  assert.deepEqual(q.types, { project: 'STRING', days: 'INT64' });
});

test('the BigQuery query filters the partition column and reads the public table', () => {
  const q = buildDownloadsQuery('Requests', { days: 7 });
  assert.ok(q.sql.includes(`\`${DOWNLOADS_TABLE}\``));
  // The partition filter: a bound on `timestamp` itself, computed from @days.
  assert.match(q.sql, /timestamp >= TIMESTAMP_SUB\(CURRENT_TIMESTAMP\(\), INTERVAL @days DAY\)/);
  assert.equal(q.params.project, 'requests');
  const shown = renderDownloadsQuery(q);
  assert.ok(shown.startsWith(q.sql));
  assert.match(shown, /@project STRING = "requests"/);
  assert.match(shown, /@days INT64 = 7/);
});

test('the stats API: 1, 7 and 30 days come from /recent, other periods from /overall', () => {
  assert.deepEqual(statsEndpoint('a-b', { days: 30 }), { kind: 'recent', path: 'api/packages/a-b/recent' });
  assert.equal(statsEndpoint('a-b', { days: 1 }).kind, 'recent');
  assert.deepEqual(statsEndpoint('a-b', { days: 14 }), {
    kind: 'overall',
    path: 'api/packages/a-b/overall?mirrors=false',
  });
  const recent = RecentResponse.parse({
    data: { last_day: 3, last_week: 20, last_month: 90 },
    package: 'a-b',
    type: 'recent_downloads',
  });
  assert.equal(countFromRecent('a-b', recent, { days: 30 }).count, 90);
  assert.equal(countFromRecent('a-b', recent, { days: 7 }).count, 20);
  assert.equal(countFromRecent('a-b', recent, { days: 1 }).count, 3);
});

test('the stats API: /overall sums the last N days without mirrors, counted back from the newest day', () => {
  const body = OverallResponse.parse({
    package: 'x',
    type: 'overall_downloads',
    data: [
      { category: 'without_mirrors', date: '2024-03-01', downloads: 1000 },
      { category: 'without_mirrors', date: '2024-03-08', downloads: 5 },
      { category: 'with_mirrors', date: '2024-03-09', downloads: 777 },
      { category: 'without_mirrors', date: '2024-03-09', downloads: 7 },
      { category: 'without_mirrors', date: '2024-03-10', downloads: 11 },
    ],
  });
  const three = countFromOverall('x', body, { days: 3 });
  assert.equal(three.count, 5 + 7 + 11);
  assert.equal(three.from, '2024-03-08');
  assert.equal(three.to, '2024-03-10');
  assert.equal(three.covered_days, null);
  const long = countFromOverall('x', body, { days: 90 });
  assert.equal(long.count, 1000 + 5 + 7 + 11);
  assert.equal(long.covered_days, 4, 'fewer days listed than asked');
  assert.equal(countFromOverall('x', { package: 'x', data: [] }, { days: 5 }).count, 0);
  assert.equal(
    RecentResponse.safeParse({ data: { last_day: -1, last_week: 0, last_month: 0 }, package: 'x' }).success,
    false,
  );
});
