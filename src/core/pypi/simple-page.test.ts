import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPkghuntError } from '../errors.ts';
import { parseDistFilename } from './dist-filename.ts';
import { latestRelease } from './latest-release.ts';
import { parseSimpleHtml, parseSimpleJson } from './parse-simple-page.ts';
import { parsePkgInfo } from './pkg-info.ts';
import type { ProjectFile } from './project-page.ts';
import { renderSimpleHtml } from './render-simple-html.ts';

test('parseDistFilename reads wheels and sdists', () => {
  assert.deepEqual(parseDistFilename('demo_pkg-1.2.0-py3-none-any.whl'), {
    kind: 'wheel',
    name: 'demo_pkg',
    version: '1.2.0',
  });
  assert.deepEqual(parseDistFilename('my-cool-pkg-0.1.tar.gz', 'my_cool_pkg'), {
    kind: 'sdist',
    name: 'my-cool-pkg',
    version: '0.1',
  });
  assert.equal(parseDistFilename('thing-1.0.egg'), null);
  assert.equal(parseDistFilename('bad.whl'), null);
});

test('parseSimpleHtml resolves links, hashes, requires-python and yanked', () => {
  const html = `<html><body>
    <a href="../../files/demo-1.0.tar.gz#sha256=ABCD" data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
    <a href="https://files.example.invalid/demo-0.9-py3-none-any.whl" data-yanked="">demo-0.9-py3-none-any.whl</a>
    <a href="demo-2.0.tar.gz" data-yanked="broken build">demo-2.0.tar.gz</a>
  </body></html>`;
  const page = parseSimpleHtml(html, { pageUrl: 'http://127.0.0.1:9/root/simple/demo/', name: 'demo' });
  assert.equal(page.files.length, 3);
  const [first, second, third] = page.files;
  assert.equal(first?.url, 'http://127.0.0.1:9/root/files/demo-1.0.tar.gz');
  assert.deepEqual(first?.hashes, { sha256: 'abcd' });
  assert.equal(first?.requiresPython, '>=3.8');
  assert.equal(first?.yanked, false);
  assert.equal(second?.yanked, '');
  assert.equal(third?.yanked, 'broken build');
  assert.equal(third?.url, 'http://127.0.0.1:9/root/simple/demo/demo-2.0.tar.gz');
});

test('parseSimpleJson reads PEP 691 and rejects junk with INDEX_BAD_RESPONSE', () => {
  const body = JSON.stringify({
    meta: { 'api-version': '1.1' },
    name: 'demo',
    files: [
      { filename: 'demo-1.0.tar.gz', url: '/f/demo-1.0.tar.gz', hashes: { sha256: 'AA' }, yanked: true },
      {
        filename: 'demo-1.1.tar.gz',
        url: 'demo-1.1.tar.gz',
        hashes: {},
        'requires-python': '>=3',
        'upload-time': 't',
      },
    ],
  });
  const page = parseSimpleJson(body, { pageUrl: 'http://127.0.0.1:9/simple/demo/' });
  assert.equal(page.files[0]?.url, 'http://127.0.0.1:9/f/demo-1.0.tar.gz');
  assert.equal(page.files[0]?.yanked, '');
  assert.deepEqual(page.files[0]?.hashes, { sha256: 'aa' });
  assert.equal(page.files[1]?.requiresPython, '>=3');
  assert.equal(page.files[1]?.uploadTime, 't');
  for (const junk of ['not json', '{"name":"x"}', '{"name":"x","files":[{"filename":1}]}']) {
    assert.throws(
      () => parseSimpleJson(junk, { pageUrl: 'http://127.0.0.1:9/' }),
      (e: unknown) => isPkghuntError(e) && e.code === 'INDEX_BAD_RESPONSE',
    );
  }
});

function file(filename: string, yanked: false | string = false): ProjectFile {
  return { filename, url: `http://127.0.0.1:9/${filename}`, hashes: {}, requiresPython: null, yanked };
}

test('latestRelease picks the highest final, non-yanked release', () => {
  const page = {
    name: 'demo',
    files: [
      file('demo-1.9.tar.gz'),
      file('demo-1.10.tar.gz'),
      file('demo-1.10-py3-none-any.whl'),
      file('demo-2.0rc1.tar.gz'),
      file('demo-2.0.dev3.tar.gz'),
      file('demo-1.11.tar.gz', 'oops'),
      file('demo-1.0.egg'),
    ],
  };
  const latest = latestRelease(page);
  assert.equal(latest.version, '1.10');
  assert.equal(latest.files.length, 2);
  assert.equal(latestRelease(page, '2.0rc1').version, '2.0rc1');
  assert.equal(latestRelease(page, '1.11').files.length, 1);
  assert.equal(latestRelease(page, '1.9.0').version, '1.9');
  assert.throws(
    () => latestRelease(page, '3.0'),
    (e: unknown) => isPkghuntError(e) && e.code === 'PACKAGE_NOT_FOUND',
  );
  assert.throws(
    () => latestRelease({ name: 'demo', files: [file('demo-1.0a1.tar.gz')] }),
    (e: unknown) => isPkghuntError(e) && e.code === 'PACKAGE_NOT_FOUND',
  );
});

test('renderSimpleHtml round-trips through parseSimpleHtml with escaping', () => {
  const html = renderSimpleHtml('demo', [
    {
      filename: 'demo-1.0.tar.gz',
      href: '/files/ab/demo-1.0.tar.gz',
      sha256: 'ff',
      requiresPython: '>=3.8',
      yanked: false,
    },
    {
      filename: 'demo-0.1.tar.gz',
      href: '/files/cd/demo-0.1.tar.gz',
      sha256: null,
      requiresPython: null,
      yanked: 'x"<y',
    },
  ]);
  const page = parseSimpleHtml(html, { pageUrl: 'http://127.0.0.1:1/simple/demo/', name: 'demo' });
  assert.equal(page.files[0]?.url, 'http://127.0.0.1:1/files/ab/demo-1.0.tar.gz');
  assert.deepEqual(page.files[0]?.hashes, { sha256: 'ff' });
  assert.equal(page.files[0]?.requiresPython, '>=3.8');
  assert.equal(page.files[1]?.yanked, 'x"<y');
});

test('parsePkgInfo reads Name and Version from the header block only', () => {
  const meta = parsePkgInfo('Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.3\n\nVersion: 9\n');
  assert.deepEqual(meta, { name: 'demo-pkg', version: '0.3' });
});
