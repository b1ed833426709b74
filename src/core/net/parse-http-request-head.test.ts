import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHttpRequestHead } from './parse-http-request-head.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('parseHttpRequestHead reads method, path and Host', () => {
  const head = bytes('POST /collect?id=1 HTTP/1.1\r\nUser-Agent: x\r\nhOsT:  evil.example:5566 \r\n\r\nbody');
  assert.deepEqual(parseHttpRequestHead(head), {
    method: 'POST',
    host: 'evil.example:5566',
    path: '/collect?id=1',
  });
});

test('parseHttpRequestHead gives host null when there is no Host header', () => {
  assert.deepEqual(parseHttpRequestHead(bytes('GET /x HTTP/1.0\r\n\r\n')), {
    method: 'GET',
    host: null,
    path: '/x',
  });
});

test('parseHttpRequestHead ignores a Host line in the body', () => {
  const head = bytes('GET /x HTTP/1.1\r\nA: b\r\n\r\nHost: body.example\r\n');
  assert.equal(parseHttpRequestHead(head)?.host, null);
});

test('parseHttpRequestHead accepts a head cut before its end', () => {
  assert.deepEqual(parseHttpRequestHead(bytes('GET /big HTTP/1.1\r\nHost: h.example\r\nX-Pad: aaa')), {
    method: 'GET',
    host: 'h.example',
    path: '/big',
  });
});

test('parseHttpRequestHead returns null for anything that is not an HTTP/1 request', () => {
  for (const s of [
    '',
    'hello world\r\n',
    'get / HTTP/1.1\r\n',
    'GET / HTTP/1.1',
    'SSH-2.0-OpenSSH_9.2\r\n',
    'GET  HTTP/1.1\r\n',
  ]) {
    assert.equal(parseHttpRequestHead(bytes(s)), null, JSON.stringify(s));
  }
  assert.equal(parseHttpRequestHead(new Uint8Array([0x16, 0x03, 0x01, 0, 5, 1, 2, 3, 4, 5])), null);
});
