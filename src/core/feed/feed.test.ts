import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PkghuntError } from '../errors.ts';
import type { BehaviourRecord } from '../record/schema.ts';
import { buildAlert, genericPayload, slackInert, slackPayload } from './alert.ts';
import { parseChangelog, parseLastSerial, releasesFromChangelog } from './changelog.ts';
import { EMPTY_POSITION, planFeedPoll } from './feed-position.ts';
import { deriveFeedUrls } from './feed-urls.ts';
import { outboxRetryDelay } from './outbox-backoff.ts';
import { parseRssFeed } from './parse-rss.ts';
import { parseXmlRpcResponse, xmlRpcCall } from './xmlrpc.ts';

function rss(items: { title: string; link?: string; date?: string }[]): string {
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>${items
    .map(
      (i) =>
        `<item><title>${i.title}</title>${i.link ? `<link>${i.link}</link>` : ''}${i.date ? `<pubDate>${i.date}</pubDate>` : ''}</item>`,
    )
    .join('')}</channel></rss>`;
}

test('RSS of releases: name and version from the link, oldest first, duplicates once', () => {
  const feed = parseRssFeed(
    rss([
      {
        title: 'Foo_Bar 2.0',
        link: 'http://127.0.0.1/project/Foo_Bar/2.0/',
        date: 'Tue, 02 Jan 2024 00:00:00 GMT',
      },
      { title: 'baz 1.0', link: 'http://127.0.0.1/project/baz/1.0/', date: 'Mon, 01 Jan 2024 00:00:00 GMT' },
      {
        title: 'Foo_Bar 2.0',
        link: 'http://127.0.0.1/project/Foo_Bar/2.0/',
        date: 'Tue, 02 Jan 2024 00:00:00 GMT',
      },
      { title: 'nolink 3.0', date: 'Wed, 03 Jan 2024 00:00:00 GMT' },
    ]),
    'releases',
  );
  assert.deepEqual(
    feed.items.map((i) => [i.name, i.version, i.published]),
    [
      ['baz', '1.0', '2024-01-01T00:00:00.000Z'],
      ['foo-bar', '2.0', '2024-01-02T00:00:00.000Z'],
      ['nolink', '3.0', '2024-01-03T00:00:00.000Z'],
    ],
  );
  assert.equal(feed.invalid, 0);
});

test('RSS: items naming no valid package are counted and dropped; new-project feeds have no version', () => {
  const feed = parseRssFeed(
    rss([
      { title: 'x', link: 'http://127.0.0.1/project/$(rm -rf)/1.0/' },
      { title: 'ok 1.0; rm', link: 'http://127.0.0.1/nothing' },
      { title: 'good 1.0', link: 'http://127.0.0.1/project/good/1.0/' },
    ]),
    'releases',
  );
  assert.deepEqual(
    feed.items.map((i) => i.name),
    ['good'],
  );
  assert.equal(feed.invalid, 2);
  const projects = parseRssFeed(
    rss([{ title: 'newpkg added to the index', link: 'http://h/project/newpkg/' }]),
    'projects',
  );
  assert.deepEqual(projects.items[0]?.version, null);
  assert.equal(projects.items[0]?.name, 'newpkg');
});

test('malformed XML and non-RSS documents are FEED_BAD_RESPONSE', () => {
  for (const bad of ['<rss><channel><item></channel>', '<html><body>hi</body></html>', 'not xml at all <']) {
    assert.throws(
      () => parseRssFeed(bad, 'releases'),
      (e: unknown) => e instanceof PkghuntError && e.code === 'FEED_BAD_RESPONSE',
    );
  }
});

const item = (name: string, version: string, published: string | null) => ({
  name,
  version,
  published,
  link: null,
});

test('feed position: overlap, duplicates, out of order and an overflowed window (gap)', () => {
  const first = planFeedPoll(EMPTY_POSITION, [
    item('a', '1', '2024-01-01T00:00:00Z'),
    item('b', '1', '2024-01-01T00:01:00Z'),
  ]);
  assert.equal(first.gap, null, 'the first poll has nothing to overlap');
  assert.equal(first.fresh.length, 2);
  // The next window still holds b: overlap; c is new, b is not repeated.
  const second = planFeedPoll(first.next, [
    item('b', '1', '2024-01-01T00:01:00Z'),
    item('c', '1', '2024-01-01T00:02:00Z'),
  ]);
  assert.equal(second.gap, null);
  assert.deepEqual(
    second.fresh.map((i) => i.name),
    ['c'],
  );
  // An item older than the newest seen but never seen (out of order) is fresh, without a gap.
  const third = planFeedPoll(second.next, [
    item('late', '1', '2024-01-01T00:00:30Z'),
    item('c', '1', '2024-01-01T00:02:00Z'),
  ]);
  assert.equal(third.gap, null);
  assert.deepEqual(
    third.fresh.map((i) => i.name),
    ['late'],
  );
  // A window of only newer, unseen items: more came than the window holds.
  const fourth = planFeedPoll(third.next, [
    item('x', '1', '2024-01-01T01:00:00Z'),
    item('y', '1', '2024-01-01T01:01:00Z'),
  ]);
  assert.deepEqual(fourth.gap, {
    after: '2024-01-01T00:02:00.000Z'.replace('.000', ''),
    before: '2024-01-01T01:00:00Z',
  });
  assert.equal(fourth.next.newestPublished, '2024-01-01T01:01:00Z');
  // Same window again (restart before anything new): nothing fresh, no gap.
  const again = planFeedPoll(fourth.next, [
    item('x', '1', '2024-01-01T01:00:00Z'),
    item('y', '1', '2024-01-01T01:01:00Z'),
  ]);
  assert.equal(again.fresh.length, 0);
  assert.equal(again.gap, null);
});

test('XML-RPC: the changelog decodes into events; release events are kept once; faults and junk are typed', () => {
  assert.match(
    xmlRpcCall('changelog_since_serial', [42]),
    /<methodName>changelog_since_serial<\/methodName>.*<int>42<\/int>/,
  );
  const xml = `<?xml version='1.0'?><methodResponse><params><param><value><array><data>
    <value><array><data><value><string>Foo</string></value><value><string>1.0</string></value><value><int>1700000000</int></value><value><string>new release</string></value><value><int>11</int></value></data></array></value>
    <value><array><data><value><string>Foo</string></value><value><string>1.0</string></value><value><int>1700000001</int></value><value><string>add py3 file foo-1.0-py3-none-any.whl</string></value><value><int>12</int></value></data></array></value>
    <value><array><data><value><string>bar</string></value><value><nil/></value><value><int>1700000002</int></value><value><string>create</string></value><value><int>13</int></value></data></array></value>
    <value><array><data><value>baz</value><value><string>2.0</string></value><value><int>1700000003</int></value><value><string>yank release</string></value><value><int>14</int></value></data></array></value>
    </data></array></value></param></params></methodResponse>`;
  const events = parseChangelog(parseXmlRpcResponse(xml, 'test'), 'test');
  assert.equal(events.length, 4);
  assert.equal(events[2]?.version, null);
  assert.deepEqual(releasesFromChangelog(events), [
    { name: 'foo', version: '1.0', published: '2023-11-14T22:13:20.000Z', serial: 11 },
  ]);
  assert.equal(
    parseLastSerial(
      parseXmlRpcResponse(
        '<methodResponse><params><param><value><int>77</int></value></param></params></methodResponse>',
        't',
      ),
      't',
    ),
    77,
  );
  const fault = `<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string>nope</string></value></member></struct></value></fault></methodResponse>`;
  assert.throws(
    () => parseXmlRpcResponse(fault, 't'),
    (e: unknown) => e instanceof PkghuntError && e.code === 'FEED_UNAVAILABLE' && /nope/.test(e.message),
  );
  assert.throws(
    () => parseXmlRpcResponse('<methodResponse><params>', 't'),
    (e: unknown) => e instanceof PkghuntError && e.code === 'FEED_BAD_RESPONSE',
  );
  assert.throws(
    () =>
      parseChangelog(
        parseXmlRpcResponse(
          '<methodResponse><params><param><value><array><data><value><int>1</int></value></data></array></value></param></params></methodResponse>',
          't',
        ),
        't',
      ),
    (e: unknown) => e instanceof PkghuntError && e.code === 'FEED_BAD_RESPONSE',
  );
});

test('feed URLs derive from the index URL; file:// has none unless given', () => {
  const urls = deriveFeedUrls('http://127.0.0.1:8080/simple/');
  assert.equal(urls.releases, 'http://127.0.0.1:8080/rss/updates.xml');
  assert.equal(urls.projects, 'http://127.0.0.1:8080/rss/packages.xml');
  assert.equal(urls.changelog, 'http://127.0.0.1:8080/pypi');
  assert.equal(deriveFeedUrls('http://127.0.0.1/simple/', { noChangelog: true }).changelog, null);
  assert.throws(
    () => deriveFeedUrls('file:///x/simple/'),
    (e: unknown) => e instanceof PkghuntError && e.code === 'FEED_UNSUPPORTED',
  );
  const given = deriveFeedUrls('file:///x/simple/', {
    feedUrl: 'http://127.0.0.1:1/u.xml',
    packagesFeedUrl: 'http://127.0.0.1:1/p.xml',
    changelogUrl: 'http://127.0.0.1:1/rpc',
  });
  assert.equal(given.changelog, 'http://127.0.0.1:1/rpc');
  assert.throws(
    () => deriveFeedUrls('http://h/simple/', { feedUrl: 'ftp://x' }),
    (e: unknown) => e instanceof PkghuntError && e.code === 'USAGE',
  );
});

function flagged(level: 'clean' | 'malicious', evidence: string): BehaviourRecord {
  return {
    finished_at: '2024-01-01T00:00:00Z',
    verdict: {
      level,
      score: 90,
      static_files: 1,
      population_adjusted: false,
      findings: [
        {
          rule: 'r.low',
          severity: 'low',
          title: 'low',
          attack: null,
          phase: 'install',
          culprit: null,
          evidence: [],
          points: 1,
        },
        {
          rule: 'net.exfil',
          severity: 'high',
          title: 'sent a canary',
          attack: 'T1041',
          phase: 'install',
          culprit: null,
          evidence: [{ pointer: '/phases/install/connections/0', text: evidence }],
          points: 80,
        },
      ],
    },
  } as unknown as BehaviourRecord;
}

test('alerts: top findings first, dashboard link, no alert for clean', () => {
  assert.equal(
    buildAlert(flagged('clean', 'x'), { project: 'p', version: '1', dashboardUrl: null, downloads: null }),
    null,
  );
  const alert = buildAlert(flagged('malicious', 'nc host 5566'), {
    project: 'p',
    version: '1.0',
    dashboardUrl: 'http://127.0.0.1:9/dash',
    downloads: 12,
  });
  assert.ok(alert);
  assert.equal(alert.key, 'p==1.0:malicious');
  assert.equal(alert.findings[0]?.rule, 'net.exfil');
  assert.equal(alert.url, 'http://127.0.0.1:9/dash/package/p/1.0');
  assert.deepEqual((genericPayload(alert) as { alert: { downloads: number } }).alert.downloads, 12);
});

test('Slack payloads neutralise mrkdwn injection from package-controlled text', () => {
  const alert = buildAlert(flagged('malicious', '<!channel> see <http://evil.example|click> `x` & *bold*'), {
    project: 'p',
    version: '1.0',
    dashboardUrl: null,
    downloads: null,
  });
  assert.ok(alert);
  const body = JSON.stringify(slackPayload(alert));
  assert.ok(!body.includes('<!channel>'), 'no channel ping');
  assert.ok(!body.includes('<http://evil.example'), 'no link');
  assert.ok(body.includes('&lt;!channel&gt;'));
  assert.equal(slackInert('a`b'), '`aˋb`');
  assert.equal(slackInert('a\nb'), '`a b`');
});

test('outbox back-off doubles from 5 s up to an hour', () => {
  assert.equal(outboxRetryDelay(1), 5000);
  assert.equal(outboxRetryDelay(2), 10000);
  assert.equal(outboxRetryDelay(30), 3600000);
  assert.equal(outboxRetryDelay(1, { jitter: 0.5 }), 5500);
});
