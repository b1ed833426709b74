import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store.ts';
import type { Store } from '../../src/adapters/store/store.ts';
import { recordFacts } from '../../src/core/behaviour/record-facts.ts';
import { makeRecord } from './make-record.ts';

async function withStore(
  fn: (store: Store, clock: { now: number }, path: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-store-test-'));
  const clock = { now: Date.parse('2024-05-01T00:00:00Z') };
  const path = join(dir, 'db.sqlite');
  const store = openSqliteStore(path, { now: () => clock.now });
  try {
    await store.migrate();
    await fn(store, clock, path);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function result(name: string, version: string) {
  const record = makeRecord(name, version);
  return { record, facts: recordFacts(record), traces: [] };
}

test('projects upsert idempotently and select by glob, names and limit', async () => {
  await withStore(async (store) => {
    const added = await store.upsertProjects([
      { name: 'Foo_Bar', normalized: 'foo-bar', lastSerial: 1 },
      { name: 'foo-baz', normalized: 'foo-baz', lastSerial: null },
      { name: 'other', normalized: 'other', lastSerial: null },
    ]);
    assert.equal(added, 3);
    assert.equal(
      await store.upsertProjects([{ name: 'foo-bar', normalized: 'foo-bar', lastSerial: null }]),
      0,
    );
    assert.equal(await store.countProjects(), 3);
    assert.deepEqual(await store.selectProjects({ match: 'foo-*' }), ['foo-bar', 'foo-baz']);
    assert.deepEqual(await store.selectProjects({ names: ['other', 'missing'] }), ['other']);
    assert.deepEqual(await store.selectProjects({ limit: 1 }), ['foo-bar']);
  });
});

test('enqueue is idempotent and a claimed job goes to one worker only', async () => {
  await withStore(async (store) => {
    assert.equal(await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 3 }), 1);
    assert.equal(await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 3 }), 0);
    const job = await store.claim('w1', { leaseMs: 60_000 });
    assert.equal(job?.project, 'a');
    assert.equal(job?.attempts, 1);
    assert.equal(await store.claim('w2', { leaseMs: 60_000 }), null);
    assert.deepEqual(await store.jobCounts(), { pending: 0, running: 1, done: 0, failed: 0 });
  });
});

test('a job whose lease ran out returns to the queue and the old worker cannot complete it', async () => {
  await withStore(async (store, clock) => {
    await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 3 });
    const first = await store.claim('dead', { leaseMs: 1000 });
    assert.ok(first);
    clock.now += 500;
    assert.equal(await store.heartbeat(first.id, 'dead', { leaseMs: 1000 }), true);
    clock.now += 900;
    assert.equal(await store.claim('w2', { leaseMs: 1000 }), null, 'the heartbeat kept the lease');
    clock.now += 200;
    const second = await store.claim('w2', { leaseMs: 1000 });
    assert.equal(second?.id, first.id);
    assert.equal(second?.attempts, 2);
    assert.equal(await store.complete(first.id, 'dead', result('a', '1')), false);
    assert.equal(await store.complete(first.id, 'w2', result('a', '1')), true);
    assert.equal(await store.complete(first.id, 'w2', result('a', '1')), false, 'complete happens once');
    assert.deepEqual(await store.jobCounts(), { pending: 0, running: 0, done: 1, failed: 0 });
    assert.equal((await store.getRecord('a'))?.package.version, '1');
    const exported = [];
    for await (const record of store.exportRecords()) exported.push(record);
    assert.equal(exported.length, 1);
  });
});

test('failures retry with back-off, then end failed with the reason', async () => {
  await withStore(async (store, clock) => {
    await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 2 });
    const job = await store.claim('w', { leaseMs: 1000 });
    assert.ok(job);
    assert.equal(await store.fail(job.id, 'w', { reason: 'boom 1', retryAfterMs: 5000 }), 'pending');
    assert.equal(await store.claim('w', { leaseMs: 1000 }), null, 'waiting for the back-off');
    clock.now += 5001;
    const again = await store.claim('w', { leaseMs: 1000 });
    assert.equal(again?.attempts, 2);
    assert.ok(again);
    assert.equal(await store.fail(again.id, 'w', { reason: 'boom 2', retryAfterMs: 5000 }), 'failed');
    const failed = await store.failedJobs();
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.lastError, 'boom 2');
    assert.equal(await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 2 }), 0);
    assert.deepEqual(await store.jobCounts(), { pending: 0, running: 0, done: 0, failed: 1 });
  });
});

test('a job whose worker dies on every attempt ends failed instead of looping', async () => {
  await withStore(async (store, clock) => {
    await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 1 });
    assert.ok(await store.claim('dead', { leaseMs: 1000 }));
    clock.now += 2000;
    assert.equal(await store.claim('w', { leaseMs: 1000 }), null);
    assert.match((await store.failedJobs())[0]?.lastError ?? '', /stopped without finishing/);
  });
});

test('release hands a job back without counting the attempt', async () => {
  await withStore(async (store) => {
    await store.enqueue([{ project: 'a', version: '1' }], { maxAttempts: 3 });
    const job = await store.claim('w', { leaseMs: 1000 });
    assert.ok(job);
    await store.release(job.id, 'w');
    const again = await store.claim('w', { leaseMs: 1000 });
    assert.equal(again?.attempts, 1);
  });
});

test('the views answer the study questions from the stored facts', async () => {
  await withStore(async (store) => {
    const record = makeRecord('evil', '1', {
      dns: [{ name: 'c2.example.', type: 'A', time: 0, answer: '127.53.0.1', server: null }],
      connections: [
        {
          protocol: 'tcp',
          ip: '127.53.0.1',
          port: 443,
          hostname: 'c2.example',
          sent_bytes: 10,
          sent_preview: '',
          http: null,
          tls_sni: 'C2.example',
          time: 0,
          pids: [],
        },
      ],
      commands: [
        {
          argv: ['/opt/venv/bin/python', '-m', 'pip', 'install', 'x'],
          cwd: null,
          pid: 1,
          ppid: null,
          time: 0,
          exe: 'python',
        },
        { argv: ['curl', 'http://c2.example'], cwd: null, pid: 2, ppid: 1, time: 0, exe: '/usr/bin/curl' },
      ],
    });
    await store.enqueue([{ project: 'evil', version: '1' }], { maxAttempts: 1 });
    const job = await store.claim('w', { leaseMs: 1000 });
    assert.ok(job);
    assert.equal(await store.complete(job.id, 'w', { record, facts: recordFacts(record), traces: [] }), true);
    assert.deepEqual(await store.query('connected'), [
      {
        ecosystem: 'pypi',
        project: 'evil',
        version: '1',
        host: 'c2.example',
        ip: '127.53.0.1',
        port: 443,
        protocol: 'tcp',
      },
    ]);
    assert.deepEqual(await store.query('dns'), [{ name: 'c2.example', packages: 1 }]);
    assert.deepEqual(await store.query('commands'), [
      {
        ecosystem: 'pypi',
        project: 'evil',
        version: '1',
        phase: 'install',
        command: 'curl http://c2.example',
      },
    ]);
  });
});

test('reopening the file keeps everything and does not re-run migrations', async () => {
  await withStore(async (store, _clock, path) => {
    await store.upsertProjects([{ name: 'a', normalized: 'a', lastSerial: null }]);
    const again = openSqliteStore(path);
    try {
      await again.migrate();
      assert.equal(await again.countProjects(), 1);
    } finally {
      await again.close();
    }
  });
});
