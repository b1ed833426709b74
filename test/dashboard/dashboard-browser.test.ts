/**
 * The dashboard in a real headless browser (Debian's chromium driven by playwright-core) over a
 * store filled by a real hunt (sandbox, strace) of ph-test-xss, whose argv, file name and sent
 * bytes carry HTML and script tags, plus ph-demo-pure and ph-demo-ci-exfil. Checks that all of it
 * shows as text only (no dialog, no injected element, the `window.__xss` canary never set), that
 * the hex view shows the binary bytes, that a verdict stored by another process appears live, and
 * that a triage decision made in the page needs the token and opens the report draft, and that the
 * package page shows the download count of a stats API on loopback.
 * Writes out/screenshots/{overview,triage,package}.png.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { z } from 'zod';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import { PROJECT_ROOT } from '../../src/config.ts';
import { DEMO_INDEX_URL, runCli } from '../helpers/run-cli.ts';
import { storeRecord } from './fill-store.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token-0123456789';
const SCREENSHOTS = join(PROJECT_ROOT, 'out/screenshots');

function startServe(db: string, statsUrl: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(PROJECT_ROOT, 'bin/pkghunt'),
      ['serve', '--db', db, '--port', '0', '--poll', '0.3'],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          PKGHUNT_SERVE_TOKEN: TOKEN,
          PKGHUNT_STATS_URL: statsUrl,
          PKGHUNT_GCP_PROJECT: '',
          GOOGLE_APPLICATION_CREDENTIALS: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

/** What a package could have injected: dialogs seen, the canary, script elements, markup elements. */
async function injectionReport(page: Page, dialogs: string[]) {
  // A string, evaluated in the page (this file is type-checked without the DOM library).
  const report = InjectionState.parse(
    await page.evaluate(`({
      xss: window.__xss ?? null,
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
      images: document.querySelectorAll('img').length,
      bold: document.querySelectorAll('b, i').length,
      handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
    })`),
  );
  return { ...report, dialogs: [...dialogs] };
}

const InjectionState = z.object({
  xss: z.unknown(),
  scripts: z.array(z.string().nullable()),
  images: z.number(),
  bold: z.number(),
  handlers: z.number(),
});

const CLEAN = { xss: null, scripts: ['/assets/dashboard.js'], images: 0, bold: 0, handlers: 0, dialogs: [] };

describe('dashboard in headless chromium', () => {
  let dir: string;
  let db: string;
  let serve: { child: ChildProcess; url: string };
  let stats: FastifyInstance;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: install Debian's "chromium" package (make setup does: apt-get install chromium)`,
    );
    dir = await mkdtemp(join(tmpdir(), 'pkghunt-browser-'));
    db = join(dir, 'store.db');
    const names = join(dir, 'names.txt');
    await writeFile(names, 'ph-test-xss\nph-demo-pure\nph-demo-ci-exfil\n');
    const hunt = await runCli([
      'hunt',
      '--db',
      db,
      '--index-url',
      DEMO_INDEX_URL,
      '--from',
      names,
      '--tracer',
      'strace',
      '--workers',
      '1',
    ]);
    assert.equal(hunt.code, 0, hunt.stderr.slice(-3000));
    // Download counts come from a stats API on loopback (pypistats-compatible shape).
    stats = Fastify();
    stats.get('/api/packages/ph-test-xss/recent', async () => ({
      data: { last_day: 1, last_week: 10, last_month: 1234 },
      package: 'ph-test-xss',
      type: 'recent_downloads',
    }));
    await stats.listen({ host: '127.0.0.1', port: 0 });
    serve = await startServe(db, `http://127.0.0.1:${(stats.server.address() as AddressInfo).port}/`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium refuses its own sandbox as root; the pages it loads are ours, from loopback.
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    if (serve?.child.exitCode === null) {
      const exited = new Promise((resolve) => serve.child.once('exit', resolve));
      serve.child.kill('SIGTERM');
      await exited;
    }
    await stats?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the overview shows charts and numbers, and a new verdict appears live', async () => {
    await page.goto(serve.url);
    assert.equal(await page.title(), 'Overview - pkghunt');
    assert.ok(
      (await page.locator('svg.chart').count()) >= 4,
      'charts for days, verdicts, hosts, DNS, commands',
    );
    const hosts = (await page.locator('section', { hasText: 'Most contacted hosts' }).textContent()) ?? '';
    assert.match(hosts, /xss-collector\.example/);
    assert.match(hosts, /ci-collector\.exfil-demo\.example/);
    await page.locator('#live-status', { hasText: 'live' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });

    // Another process (this test) stores a result: the open page shows it without a reload.
    const writer = openSqliteStore(db);
    try {
      const record = await writer.getRecord('ph-test-xss', '1.0.0');
      assert.ok(record);
      record.package.version = '1.0.1';
      await storeRecord(writer, record);
    } finally {
      await writer.close();
    }
    await page.locator('#live-feed tr.fresh', { hasText: 'ph-test-xss 1.0.1' }).waitFor();
    assert.deepEqual(await injectionReport(page, dialogs), CLEAN);
  });

  test('the package page shows argv, file names and payloads as text, with a hex view', async () => {
    await page.goto(`${serve.url}/package/ph-test-xss/1.0.0`);
    const text = (await page.locator('main').textContent()) ?? '';
    assert.ok(
      text.includes('echo <script>window.__xss=1</script> <img src=x onerror=window.__xss=2>'),
      'argv as text',
    );
    assert.ok(text.includes('/home/builder/<b>xss-file<i>.txt'), 'file name as text');
    assert.ok(text.includes('POST /<script>window.__xss=3</script> HTTP/1.1'), 'payload as text');
    assert.match(
      (await page.locator('#downloads').textContent()) ?? '',
      /^1,234 over the last 30 days .*from the stats API at 127\.0\.0\.1:\d+ \(stats-api\)$/,
    );
    const hex = (await page.locator('pre.hex').first().textContent()) ?? '';
    // The hex column of each 16-byte line (offset, two spaces, 47 characters of hex pairs).
    const pairs = hex
      .split('\n')
      .map((line) => line.slice(10, 57).trim())
      .join(' ');
    assert.ok(pairs.includes('0a 0a 00 01 02 ff fe 3c 3e 7f'), `the binary bytes in the hex view: ${pairs}`);
    assert.match((await page.locator('ul.tree').first().textContent()) ?? '', /echo <script>/);
    assert.ok((await page.locator('table.timeline tr').count()) > 3, 'a timeline of events');
    // The screenshot shows the process tree and what follows (the parts a package controls).
    await page
      .locator('h3', { hasText: 'Process tree' })
      .first()
      .evaluate((el) => el.scrollIntoView());
    await page.screenshot({ path: join(SCREENSHOTS, 'package.png'), fullPage: false });
    assert.deepEqual(await injectionReport(page, dialogs), CLEAN);
  });

  test('triage in the page needs the token; a confirmed release offers the report draft', async () => {
    await page.goto(`${serve.url}/triage`);
    const row = page.locator('#triage-queue tr', { hasText: 'ph-test-xss 1.0.0' });
    assert.ok((await page.locator('#triage-queue tr').count()) >= 2);
    const form = row.locator('form.decide');
    await form.locator('select[name=label]').selectOption('confirmed_malicious');
    await form.locator('input[name=comment]').fill('<script>window.__xss=4</script> confirmed');
    await form.locator('button').click();
    await form.locator('.saved', { hasText: 'not saved' }).waitFor();
    assert.match((await form.locator('.saved').textContent()) ?? '', /Bearer token/);

    await page.locator('#triage-token').fill(TOKEN);
    await page.locator('#triage-token').dispatchEvent('change');
    await form.locator('button').click();
    await form.locator('.saved', { hasText: 'saved: confirmed malicious' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'triage.png'), fullPage: true });
    assert.deepEqual(await injectionReport(page, dialogs), CLEAN);

    // The confirmation offers the report draft at once: its page shows the email and OSV record as text.
    await form.locator('.saved a', { hasText: 'open the report draft' }).click();
    await page.locator('pre.draft-email').waitFor();
    assert.equal(await page.title(), 'Report draft: ph-test-xss 1.0.0 - pkghunt');
    const email = (await page.locator('pre.draft-email').textContent()) ?? '';
    assert.match(email, /ph-test-xss/);
    assert.match(email, /downloaded 1234 times in the last 30 days/);
    assert.match(
      (await page.locator('pre.draft-osv').textContent()) ?? '',
      /"id": "MAL-0000-pkghunt-ph-test-xss-1\.0\.0"/,
    );
    assert.deepEqual(await injectionReport(page, dialogs), CLEAN);

    await page.goto(`${serve.url}/package/ph-test-xss/1.0.0`);
    await page.locator('#report-draft').waitFor();
    const triage = (await page.locator('section', { hasText: 'Triage' }).first().textContent()) ?? '';
    assert.ok(triage.includes('<script>window.__xss=4</script> confirmed'), 'the comment shows as text');
    assert.match((await page.locator('pre.draft-email').textContent()) ?? '', /ph-test-xss/);
    assert.deepEqual(await injectionReport(page, dialogs), CLEAN);
  });
});
