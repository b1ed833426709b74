import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildDashboardServer, CONTENT_SECURITY_POLICY } from '../../src/adapters/dashboard/server.ts';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { openSqliteDashboardStore } from '../../src/adapters/store/triage-sqlite.ts';
import { exportAllowlistCandidates } from '../../src/app/triage-export.ts';
import { loadConfig } from '../../src/config.ts';
import { AllowlistFile, parseAllowlist } from '../../src/core/detect/allowlist.ts';
import { cleanRecord, fillStore, storeRecord, XSS_ARGV, XSS_PATH } from './fill-store.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe('dashboard API (fastify inject, real SQLite store)', () => {
  let dir: string;
  let db: string;
  const open = async (token: string | null) => {
    const results = openSqliteStore(db);
    const dashboard = openSqliteDashboardStore(db);
    const app = await buildDashboardServer({ results, dashboard, source: db, token, pollMs: 50 });
    return {
      app,
      async close() {
        await app.close();
        await dashboard.close();
        await results.close();
      },
    };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkghunt-dashboard-'));
    db = join(dir, 'store.db');
    await fillStore(db);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('every page sends the strict CSP and nosniff, and escapes what packages control', async () => {
    const s = await open(TOKEN);
    try {
      for (const url of ['/', '/triage', '/search?q=evil&kind=dns', '/package/ph-evil/1.0.0']) {
        const res = await s.app.inject({ url });
        assert.equal(res.statusCode, 200, url);
        assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
        assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
        // The only script element is our own file; no package string became markup.
        assert.deepEqual(
          res.body.match(/<script[^>]*>/g),
          ['<script src="/assets/dashboard.js" defer>'],
          url,
        );
        assert.ok(!/<img|<b>|<i>/.test(res.body), `${url} has no injected element`);
        assert.ok(!/<[^>]*\sonerror=/i.test(res.body), `${url} has no event-handler attribute`);
      }
      const page = (await s.app.inject({ url: '/package/ph-evil/1.0.0' })).body;
      assert.ok(page.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;'), 'argv shown as text');
      assert.ok(page.includes('&lt;img src=x onerror=window.__xss=2&gt;'));
      assert.ok(page.includes('/home/builder/&lt;b&gt;xss-file&lt;i&gt;.txt'), 'file name shown as text');
      assert.ok(page.includes('runs a shell &lt;i&gt;command&lt;/i&gt;'));
      // Hex view of the bytes sent: the binary part (00 01 ff fe) and the escaped backslash (5c).
      assert.match(page, /<pre class="hex">[^<]*00 01 ff fe 3c 3e 5c/);
      // Process tree: echo is a child of sh.
      assert.match(
        page,
        /\/bin\/sh -c x<\/code>[\s\S]*<ul class="tree"><li[^>]*><code class="argv">echo &lt;script/,
      );
    } finally {
      await s.close();
    }
  });

  test('the triage queue is sorted by score and filters by rule, verdict, date and host', async () => {
    const s = await open(null);
    try {
      const all = (await s.app.inject({ url: '/api/triage' })).json();
      assert.equal(all.triageEnabled, false);
      assert.deepEqual(
        all.entries.map((e: { project: string; version: string }) => `${e.project} ${e.version}`),
        ['ph-thief 2.0', 'ph-thief 1.0', 'ph-evil 1.0.0'],
      );
      assert.deepEqual(all.entries[2].rules, ['exec.shell', 'net.outbound']);
      const names = async (query: string) =>
        (await s.app.inject({ url: `/api/triage?${query}` }))
          .json()
          .entries.map((e: { project: string; version: string }) => `${e.project} ${e.version}`);
      assert.deepEqual(await names('rule=exec.shell'), ['ph-evil 1.0.0']);
      assert.deepEqual(await names('level=malicious'), ['ph-thief 2.0', 'ph-thief 1.0']);
      assert.deepEqual(await names('host=old.example'), ['ph-thief 1.0']);
      assert.deepEqual(await names('host=evil.example'), ['ph-evil 1.0.0']);
      assert.deepEqual(await names('since=2999-01-01'), []);
      assert.equal((await names('until=2000-01-01')).length, 0);
      assert.equal((await names('since=&rule=&level=')).length, 3, 'empty form fields are no filter');
      const bad = await s.app.inject({ url: '/api/triage?level=evil' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.code, 'USAGE');
      const page = (await s.app.inject({ url: '/triage' })).body;
      assert.match(page, /id="triage-disabled"/, 'the page says triage is disabled');
      assert.ok(!page.includes('class="decide"'), 'no decision forms without a token');
    } finally {
      await s.close();
    }
  });

  test('decisions need the token, are stored, filter the queue and open the report draft', async () => {
    const readOnly = await open(null);
    try {
      const res = await readOnly.app.inject({
        method: 'POST',
        url: '/api/triage',
        payload: { project: 'ph-thief', version: '2.0', label: 'confirmed_malicious' },
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'TRIAGE_DISABLED');
    } finally {
      await readOnly.close();
    }
    const s = await open(TOKEN);
    try {
      const post = (payload: object, authorization?: string) =>
        s.app.inject({
          method: 'POST',
          url: '/api/triage',
          payload,
          headers: authorization === undefined ? {} : { authorization },
        });
      const decision = {
        project: 'PH_Thief',
        version: '2.0',
        label: 'confirmed_malicious',
        comment: '<b>exfil</b>',
      };
      assert.equal((await post(decision)).json().error.code, 'TRIAGE_UNAUTHORIZED');
      assert.equal((await post(decision, 'Bearer wrong')).statusCode, 401);
      assert.equal((await post({ ...decision, label: 'maybe' }, `Bearer ${TOKEN}`)).statusCode, 400);
      assert.equal((await post({ ...decision, version: '9.9' }, `Bearer ${TOKEN}`)).statusCode, 404);
      assert.equal(
        (await s.app.inject({ url: '/api/packages/ph-thief/2.0/report-draft' })).statusCode,
        404,
        'no draft before confirmation',
      );
      const created = await post(decision, `Bearer ${TOKEN}`);
      assert.equal(created.statusCode, 201);
      assert.equal(created.json().decision.project, 'ph-thief', 'the name is normalised');
      const fp = await post(
        {
          project: 'ph-evil',
          version: '1.0.0',
          rule: 'exec.shell',
          label: 'false_positive',
          comment: 'build step',
          analyst: 'ana',
        },
        `Bearer ${TOKEN}`,
      );
      assert.equal(fp.statusCode, 201);

      const confirmed = (await s.app.inject({ url: '/api/triage?decision=confirmed_malicious' })).json()
        .entries;
      assert.deepEqual(
        confirmed.map((e: { project: string }) => e.project),
        ['ph-thief'],
      );
      assert.equal(confirmed[0].decision.comment, '<b>exfil</b>');
      const undecided = (await s.app.inject({ url: '/api/triage?decision=undecided' })).json().entries;
      assert.equal(undecided.length, 2, 'a finding-level decision leaves the release undecided');

      const page = (await s.app.inject({ url: '/package/ph-thief/2.0' })).body;
      assert.match(page, /id="report-draft"/);
      assert.ok(page.includes('&lt;b&gt;exfil&lt;/b&gt;'));
      const draft = await s.app.inject({ url: '/api/packages/ph-thief/2.0/report-draft' });
      assert.equal(draft.statusCode, 200);
      assert.ok(draft.json().osv.affected, 'the OSV record is there');
      // The diff against the previous release shows the new host.
      assert.match(page, /new-collector\.example/);
      const api = (await s.app.inject({ url: '/api/packages/ph-thief/2.0' })).json();
      assert.deepEqual(
        api.diff.new.hosts.map((h: { key: string }) => h.key),
        ['new-collector.example'],
      );
    } finally {
      await s.close();
    }

    // A false positive on a command finding becomes an allowlist candidate for that argv.
    const exported = await exportAllowlistCandidates({ db, config: loadConfig() });
    assert.equal(exported.decisions, 1);
    AllowlistFile.parse(exported.file);
    assert.equal(exported.file.commands.length, 1);
    const candidate = parseAllowlist(exported.file);
    assert.ok(candidate.command(XSS_ARGV, 'install'), 'the candidate allows the dismissed command');
    assert.equal(candidate.command(['echo', 'other'], 'install'), null, 'and only it');
    assert.match(exported.file.commands[0]?.reason ?? '', /triage #\d+ by ana/);
  });

  test('a confirmed release opens its report draft: its own page and downloads, escaped, read-only', async () => {
    const s = await open(TOKEN);
    try {
      const confirm = await s.app.inject({
        method: 'POST',
        url: '/api/triage',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { project: 'ph-evil', version: '1.0.0', label: 'confirmed_malicious' },
      });
      assert.equal(confirm.statusCode, 201);
      const pkg = (await s.app.inject({ url: '/package/ph-evil/1.0.0' })).body;
      assert.match(pkg, /<a id="report-draft-link" href="\/package\/ph-evil\/1\.0\.0\/report-draft">/);
      const queue = (await s.app.inject({ url: '/triage?decision=confirmed_malicious' })).body;
      assert.match(
        queue,
        /<a class="draft-link" href="\/package\/ph-evil\/1\.0\.0\/report-draft">report draft<\/a>/,
      );

      const page = await s.app.inject({ url: '/package/ph-evil/1.0.0/report-draft' });
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
      assert.deepEqual(page.body.match(/<script[^>]*>/g), ['<script src="/assets/dashboard.js" defer>']);
      assert.ok(!/<img|<b>|<i>/.test(page.body), 'no package string became markup');
      assert.ok(
        page.body.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;'),
        'argv in the email, as text',
      );
      assert.match(
        page.body,
        /<pre class="draft-osv">[^<]*&quot;id&quot;: &quot;MAL-0000-pkghunt-ph-evil-1\.0\.0&quot;/,
      );

      const email = await s.app.inject({ url: '/api/packages/ph-evil/1.0.0/report-draft/email.txt' });
      assert.equal(email.statusCode, 200);
      assert.equal(email.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(email.headers['x-content-type-options'], 'nosniff');
      assert.match(
        String(email.headers['content-disposition']),
        /^attachment; filename="report-ph-evil-1\.0\.0\.txt"$/,
      );
      assert.match(email.body, /ph-evil/);
      const osv = await s.app.inject({ url: '/api/packages/ph-evil/1.0.0/report-draft/osv.json' });
      assert.equal(osv.json().id, 'MAL-0000-pkghunt-ph-evil-1.0.0');
      assert.match(
        String(osv.headers['content-disposition']),
        /filename="MAL-0000-pkghunt-ph-evil-1\.0\.0\.json"/,
      );

      // Not confirmed: no draft anywhere; reading needs no token, writing does.
      for (const url of [
        '/package/ph-quiet/2.0/report-draft',
        '/api/packages/ph-quiet/2.0/report-draft/email.txt',
        '/api/packages/ph-quiet/2.0/report-draft/osv.json',
      ]) {
        assert.equal((await s.app.inject({ url })).statusCode, 404, url);
      }
      assert.equal(
        (await s.app.inject({ method: 'POST', url: '/package/ph-evil/1.0.0/report-draft' })).statusCode,
        404,
      );
    } finally {
      await s.close();
    }
  });

  test('search finds releases by name, host, DNS name, command and file path', async () => {
    const s = await open(null);
    try {
      const find = async (kind: string, q: string) =>
        (await s.app.inject({ url: `/api/search?kind=${kind}&q=${encodeURIComponent(q)}` }))
          .json()
          .results.map((r: { project: string }) => r.project);
      assert.deepEqual(await find('package', 'QUIET'), ['ph-quiet']);
      assert.deepEqual(await find('host', 'collector'), ['ph-thief']);
      assert.deepEqual(await find('host', '127.53.0.1'), ['ph-evil']);
      assert.deepEqual(await find('dns', 'evil.ex'), ['ph-evil']);
      assert.deepEqual(await find('command', '<script>'), ['ph-evil']);
      assert.deepEqual(await find('path', '<b>xss'), ['ph-evil']);
      assert.deepEqual(await find('path', '100%'), [], 'LIKE wildcards are literal');
      assert.equal((await s.app.inject({ url: '/api/search?kind=nope&q=x' })).statusCode, 400);
    } finally {
      await s.close();
    }
  });

  test('the record exports as JSON, unknown releases are 404', async () => {
    const s = await open(null);
    try {
      const res = await s.app.inject({ url: '/api/packages/ph-evil/1.0.0/record.json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-disposition']), /attachment; filename="ph-evil-1.0.0.json"/);
      assert.equal(res.json().phases.install.files[0].path, XSS_PATH);
      const missing = await s.app.inject({ url: '/package/nope/1' });
      assert.equal(missing.statusCode, 404);
      assert.ok(missing.body.includes('PACKAGE_NOT_FOUND'));
      const xssUrl = await s.app.inject({ url: '/package/%3Cscript%3Ealert(1)%3C%2Fscript%3E/1' });
      assert.ok(!xssUrl.body.includes('<script>alert'), 'the error page escapes the URL');
      const redirect = await s.app.inject({ url: '/package/PH_Evil' });
      assert.equal(redirect.statusCode, 302);
      assert.equal(redirect.headers.location, '/package/ph-evil/1.0.0');
    } finally {
      await s.close();
    }
  });

  test('the live feed streams results stored by another connection after the cursor', async () => {
    const s = await open(null);
    const writer = openSqliteStore(db);
    try {
      const address = await s.app.listen({ host: '127.0.0.1', port: 0 });
      const latest = (await s.app.inject({ url: '/api/overview' })).json().latestId;
      const controller = new AbortController();
      const res = await fetch(`${address}/api/events?after=${latest}`, { signal: controller.signal });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      await storeRecord(writer, cleanRecord('ph-late'));
      const reader = res.body?.getReader();
      assert.ok(reader);
      let text = '';
      while (!text.includes('event: verdict')) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      controller.abort();
      const data = /event: verdict\ndata: (.*)\n/.exec(text)?.[1];
      assert.ok(data, text);
      const event = JSON.parse(data);
      assert.equal(event.project, 'ph-late');
      assert.equal(event.id, latest + 1);
      assert.match(text, new RegExp(`id: ${latest + 1}\\n`));
    } finally {
      await writer.close();
      await s.close();
    }
  });
});
