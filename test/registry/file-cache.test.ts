import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { fetchIntoCache } from '../../src/adapters/registry/file-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'pkghunt-filecache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function fetchText(url: string, text: string, expected: string | null) {
  let opened = 0;
  const result = fetchIntoCache(dir, {
    url,
    expectedSha256: expected,
    openSource: async () => {
      opened++;
      return Readable.from([Buffer.from(text)]);
    },
  });
  return result.then((r) => ({ ...r, opened, text: readFileSync(r.file.path, 'utf8') }));
}

test('a file is fetched once per URL and hash', async () => {
  const url = 'http://127.0.0.1:1/files/a-1.0.tar.gz';
  const first = await fetchText(url, 'one', sha('one'));
  assert.equal(first.opened, 1);
  const again = await fetchText(url, 'one', sha('one'));
  assert.equal(again.opened, 0);
  assert.equal(again.cached, true);
});

test('a file rebuilt under the same URL (new hash on the page) is fetched again, not served stale', async () => {
  const url = 'file:///srv/index/files/b-1.0.tar.gz';
  await fetchText(url, 'old bytes', sha('old bytes'));
  const rebuilt = await fetchText(url, 'new bytes', sha('new bytes'));
  assert.equal(rebuilt.opened, 1);
  assert.equal(rebuilt.text, 'new bytes');
  const noHash = await fetchText(url, 'newest bytes', null);
  assert.equal(noHash.text, 'newest bytes', 'a local file without a hash is read again');
});
