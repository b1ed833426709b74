import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createNetworkPool } from '../../src/adapters/netns/network-pool.ts';
import { createNetworkSandbox, type NetworkSandbox } from '../../src/adapters/netns/network-sandbox.ts';

let socketDir = '';

before(async () => {
  socketDir = await mkdtemp(join(tmpdir(), 'pkghunt-netpool-test-'));
});

after(async () => {
  await rm(socketDir, { recursive: true, force: true });
});

async function ownNamespaces(): Promise<string[]> {
  const names = await readdir('/run/netns').catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(`pkghunt-${process.pid}-net-`)).sort();
}

test('an analysis not followed by another gets a fresh namespace and no spare is made', async () => {
  const made: string[] = [];
  const pool = createNetworkPool({
    socketDir,
    create: async (o) => {
      const n = await createNetworkSandbox(o);
      made.push(n.name);
      return n;
    },
  });
  const lease = await pool.take();
  assert.ok(lease.network.alive());
  assert.equal(lease.indexSocketPath.startsWith(socketDir), true);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(made, [lease.network.name], 'no namespace beyond the one taken');
  await lease.network.close();
  await pool.close();
  assert.deepEqual(await ownNamespaces(), []);
});

test('when analyses follow each other, the next namespace is made ahead, and each is used once', async () => {
  const pool = createNetworkPool({ socketDir });
  const used: NetworkSandbox[] = [];
  for (let i = 0; i < 4; i++) {
    const lease = await pool.take({ prepareNext: true });
    assert.ok(lease.network.alive());
    // Never one that an earlier analysis had: names and sockets differ.
    assert.ok(used.every((n) => n.name !== lease.network.name));
    used.push(lease.network);
    // A spare exists beside the taken one (once made).
    for (let wait = 0; wait < 100 && (await ownNamespaces()).length < 2; wait++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await ownNamespaces()).length, 2);
    await lease.network.close();
  }
  await pool.close();
  assert.deepEqual(await ownNamespaces(), [], 'the spare is deleted on close');
});

test('a spare whose netsvc died is replaced by a fresh one', async () => {
  const pool = createNetworkPool({ socketDir });
  const { execFileSync } = await import('node:child_process');
  const pidsIn = (name: string): number[] =>
    execFileSync('ip', ['netns', 'pids', name])
      .toString()
      .split('\n')
      .filter((p) => p !== '')
      .map(Number);
  try {
    await (await pool.take({ prepareNext: true })).network.close();
    // Wait for the spare to exist and its netsvc to run in it, then kill that netsvc behind the
    // pool's back.
    let spare = '';
    let pids: number[] = [];
    for (let wait = 0; wait < 200 && pids.length === 0; wait++) {
      spare = (await ownNamespaces())[0] ?? '';
      pids = spare === '' ? [] : pidsIn(spare);
      if (pids.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.notEqual(spare, '', 'a spare namespace was made');
    assert.ok(pids.length > 0, 'its netsvc runs');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const lease = await pool.take();
    try {
      assert.ok(lease.network.alive());
      assert.notEqual(lease.network.name, spare);
    } finally {
      await lease.network.close();
    }
  } finally {
    await pool.close();
  }
  assert.deepEqual(await ownNamespaces(), []);
});
