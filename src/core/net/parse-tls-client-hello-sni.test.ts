import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIENT_HELLO_WITH_SNI_B64, CLIENT_HELLO_WITHOUT_SNI_B64 } from './client-hello.fixture.ts';
import { parseTlsClientHelloSni } from './parse-tls-client-hello-sni.ts';
import { decodeBase64 } from './to-connection.ts';

const withSni = decodeBase64(CLIENT_HELLO_WITH_SNI_B64);

test('parseTlsClientHelloSni finds the server name in a real ClientHello', () => {
  assert.equal(parseTlsClientHelloSni(withSni), 'files.example.org');
});

test('parseTlsClientHelloSni returns null for a ClientHello without SNI', () => {
  assert.equal(parseTlsClientHelloSni(decodeBase64(CLIENT_HELLO_WITHOUT_SNI_B64)), null);
});

test('parseTlsClientHelloSni joins a handshake split over two records', () => {
  const handshake = withSni.subarray(5);
  const cut = 60;
  const record = (part: Uint8Array) =>
    new Uint8Array([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff, ...part]);
  const split = new Uint8Array([...record(handshake.subarray(0, cut)), ...record(handshake.subarray(cut))]);
  assert.equal(parseTlsClientHelloSni(split), 'files.example.org');
});

test('parseTlsClientHelloSni returns null for truncated or foreign bytes', () => {
  assert.equal(parseTlsClientHelloSni(withSni.subarray(0, 80)), null);
  assert.equal(parseTlsClientHelloSni(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')), null);
  assert.equal(parseTlsClientHelloSni(new Uint8Array()), null);
  const serverHello = Uint8Array.from(withSni);
  serverHello[5] = 2;
  assert.equal(parseTlsClientHelloSni(serverHello), null);
});

test('parseTlsClientHelloSni never throws on random bytes', () => {
  let seed = 7;
  for (let n = 0; n < 2000; n++) {
    const bytes = Uint8Array.from(withSni);
    for (let k = 0; k < 4; k++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[seed % bytes.length] = seed & 0xff;
    }
    const sni = parseTlsClientHelloSni(bytes);
    assert.ok(sni === null || typeof sni === 'string');
  }
});
