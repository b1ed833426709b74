import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CaptureEvent } from './capture-event.ts';
import { CLIENT_HELLO_WITH_SNI_B64 } from './client-hello.fixture.ts';
import { toConnection } from './to-connection.ts';

const startedAt = 1_700_000_000_000;
const b64 = (s: string) => btoa(s);

function tcp(data: string, extra: Partial<Record<string, unknown>> = {}) {
  const event = CaptureEvent.parse({
    type: 'tcp',
    time: 1_700_000_002.5,
    ip: '127.53.0.1',
    port: 5566,
    hostname: 'evil.example',
    client: '127.0.0.1:40000',
    data_b64: data,
    truncated: false,
    sent_bytes: 40,
    duration_ms: 3,
    open: false,
    ...extra,
  });
  assert.ok(event.type === 'tcp');
  return event;
}

test('toConnection reads an HTTP request and times it from the phase start', () => {
  const connection = toConnection(tcp(b64('GET /x HTTP/1.1\r\nHost: evil.example:5566\r\n\r\n')), startedAt);
  assert.deepEqual(connection, {
    protocol: 'tcp',
    ip: '127.53.0.1',
    port: 5566,
    hostname: 'evil.example',
    sent_bytes: 40,
    sent_preview: 'GET /x HTTP/1.1\\x0d\\x0aHost: evil.example:5566\\x0d\\x0a\\x0d\\x0a',
    http: { method: 'GET', host: 'evil.example:5566', path: '/x' },
    tls_sni: null,
    time: 2.5,
    pids: [],
  });
});

test('toConnection reads the SNI of a TLS connection', () => {
  const connection = toConnection(tcp(CLIENT_HELLO_WITH_SNI_B64), startedAt);
  assert.equal(connection.tls_sni, 'files.example.org');
  assert.equal(connection.http, null);
  assert.ok(connection.sent_preview.startsWith('\\x16\\x03\\x01'));
});

test('toConnection keeps UDP payloads without HTTP/TLS parsing and clamps early times to 0', () => {
  const event = CaptureEvent.parse({
    type: 'udp',
    time: 1_699_999_999,
    ip: '5.6.7.8',
    port: 9999,
    hostname: null,
    client: '5.6.7.8:1234',
    data_b64: b64('GET / HTTP/1.1\r\n'),
    truncated: false,
    sent_bytes: 16,
  });
  assert.ok(event.type === 'udp');
  const connection = toConnection(event, startedAt);
  assert.equal(connection.protocol, 'udp');
  assert.equal(connection.http, null);
  assert.equal(connection.time, 0);
});

test('CaptureEvent rejects a capture whose data is not base64', () => {
  assert.equal(CaptureEvent.safeParse({ ...tcp(''), data_b64: 'not base64!' }).success, false);
});
