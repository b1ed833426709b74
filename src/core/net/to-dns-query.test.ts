import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CaptureEvent } from './capture-event.ts';
import { toDnsQuery } from './to-dns-query.ts';

test('toDnsQuery keeps name, type, answer and the server the query was sent to', () => {
  const event = CaptureEvent.parse({
    type: 'dns',
    time: 1_700_000_001.25,
    transport: 'udp',
    name: 'evil.example',
    qtype: 'A',
    answer: '127.53.0.1',
    server: '8.8.8.8:53',
    client: '8.8.8.8:40000',
  });
  assert.ok(event.type === 'dns');
  assert.deepEqual(toDnsQuery(event, 1_700_000_000_000), {
    name: 'evil.example',
    type: 'A',
    time: 1.25,
    answer: '127.53.0.1',
    server: '8.8.8.8:53',
  });
});
