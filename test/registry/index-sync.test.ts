import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';

const COUNT = 20_000;

function name(i: number): string {
  return `Synth_Project.${i}`;
}

/** A loopback index whose root page comes in the form the test asks for, written in small chunks. */
async function serveIndex(form: 'json' | 'html'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/simple/') {
      res.writeHead(404).end();
      return;
    }
    if (form === 'json') {
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' });
      res.write('{"meta": {"api-version": "1.1", "_last-serial": 9}, "projects": [');
      for (let i = 0; i < COUNT; i++)
        res.write(`${i ? ',' : ''}{"name": "${name(i)}", "_last-serial": ${i}}`);
      res.end(']}');
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<!DOCTYPE html><html><body>\n');
      for (let i = 0; i < COUNT; i++) res.write(`<a href="/simple/synth-project-${i}/">${name(i)}</a>\n`);
      res.end('</body></html>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/` };
}

for (const form of ['json', 'html'] as const) {
  test(`index sync stores every project of a ${form} index with its normalised name`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pkghunt-sync-test-'));
    const { server, url } = await serveIndex(form);
    t.after(async () => {
      server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const db = join(dir, 'db.sqlite');
    const run = await runCli(['index', 'sync', '--index-url', url, '--db', db, '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const summary = JSON.parse(run.stdout) as { projects: number; added: number; format: string };
    assert.equal(summary.projects, COUNT);
    assert.equal(summary.added, COUNT);
    assert.equal(summary.format, form);
    const again = await runCli(['index', 'sync', '--index-url', url, '--db', db, '--json']);
    assert.equal((JSON.parse(again.stdout) as { added: number }).added, 0, 'a second sync adds nothing');
    const Database = (await import('better-sqlite3')).default;
    const conn = new Database(db, { readonly: true });
    try {
      const row = conn.prepare('SELECT name FROM projects WHERE normalized = ?').get('synth-project-123') as
        | { name: string }
        | undefined;
      assert.equal(row?.name, 'Synth_Project.123');
    } finally {
      conn.close();
    }
  });
}
