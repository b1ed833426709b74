import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapePreview } from './escape-preview.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('escapePreview keeps printable ASCII and escapes the rest as \\xNN', () => {
  assert.equal(escapePreview(bytes('GET / HTTP/1.1\r\n')), 'GET / HTTP/1.1\\x0d\\x0a');
  assert.equal(escapePreview(new Uint8Array([0, 0x7f, 0xff, 0x41])), '\\x00\\x7f\\xffA');
});

test('escapePreview doubles backslashes so the preview stays unambiguous', () => {
  assert.equal(escapePreview(bytes('a\\x00')), 'a\\\\x00');
});

test('escapePreview stops after max bytes', () => {
  assert.equal(escapePreview(bytes('abcdef'), 3), 'abc');
  assert.equal(escapePreview(new Uint8Array(5000).fill(0x61)).length, 4096);
});
