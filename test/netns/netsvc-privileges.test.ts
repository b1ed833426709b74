import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { defaultPython } from '../../src/adapters/netns/default-python.ts';
import { createNetworkSandbox } from '../../src/adapters/netns/network-sandbox.ts';

const run = promisify(execFile);
/** CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13). */
const KEPT = (1n << 10n) | (1n << 13n);

function statusField(status: string, field: string): string {
  return new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(status)?.[1] ?? '';
}

// Real namespace and netsvc; the only traffic is a DNS query inside the namespace.
test('netsvc runs with CAP_NET_RAW and CAP_NET_BIND_SERVICE only and no_new_privs, and still answers from the spoofed resolver', async (t) => {
  const workDir = await mkdtemp(join(tmpdir(), 'pkghunt-netsvc-priv-'));
  const socketPath = join(workDir, 'index.sock');
  const index = createServer((_req, res) => res.end('index'));
  await new Promise<void>((resolve) => index.listen(socketPath, resolve));
  const sandbox = await createNetworkSandbox({ id: 'e2e-priv', indexSocketPath: socketPath });
  t.after(async () => {
    await sandbox.close();
    await new Promise<void>((resolve) => index.close(() => resolve()));
    await rm(workDir, { recursive: true, force: true });
  });
  const ready = sandbox.events()[0];
  assert.ok(ready?.type === 'ready');
  const status = await readFile(`/proc/${ready.pid}/status`, 'utf8');
  assert.equal(BigInt(`0x${statusField(status, 'CapEff')}`), KEPT, 'effective: the two kept');
  assert.equal(BigInt(`0x${statusField(status, 'CapPrm')}`), KEPT, 'permitted: the two kept');
  assert.equal(BigInt(`0x${statusField(status, 'CapBnd')}`), KEPT, 'bounding: the two kept');
  assert.equal(statusField(status, 'NoNewPrivs'), '1');

  // A query sent straight to a public resolver is answered from that address and port 53:
  // IP_TRANSPARENT and a privileged port at run time, which need the two capabilities kept.
  const client = [
    'import socket, struct',
    'q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)',
    'q += b"".join(bytes([len(p)]) + p for p in b"priv.example".split(b".")) + b"\\0" + struct.pack(">HH", 1, 1)',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)',
    's.connect(("8.8.8.8", 53)); s.send(q)',
    'data, peer = s.recvfrom(512)',
    'print(peer[0], data[:2].hex())',
  ].join('\n');
  const { stdout } = await run('ip', ['netns', 'exec', sandbox.name, defaultPython(), '-c', client], {
    timeout: 20_000,
  });
  assert.equal(stdout.trim(), '8.8.8.8 1234');
  const events = await sandbox.close();
  assert.ok(events.some((e) => e.type === 'dns' && e.name === 'priv.example'));
  assert.ok(
    !events.some((e) => e.type === 'error'),
    JSON.stringify(events.filter((e) => e.type === 'error')),
  );
});
