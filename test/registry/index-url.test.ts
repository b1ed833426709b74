import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { resolveIndexUrl } from '../../src/adapters/registry/index-url.ts';
import { isPkghuntError } from '../../src/core/errors.ts';

/** An environment with no pip settings of the host's, so only what a test sets counts. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    PIP_CONFIG_FILE: '/dev/null',
    ...extra,
  };
}

test('the CLI value wins, then PIP_INDEX_URL', async () => {
  const env = cleanEnv({ PIP_INDEX_URL: 'http://127.0.0.1:1/env/simple' });
  assert.equal(
    await resolveIndexUrl({ cliValue: 'http://127.0.0.1:2/cli/simple', env }),
    'http://127.0.0.1:2/cli/simple/',
  );
  assert.equal(await resolveIndexUrl({ env }), 'http://127.0.0.1:1/env/simple/');
});

test("pip's configured index-url is used; extra-index-url and find-links are not", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-pipconf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const conf = join(dir, 'pip.conf');
  await writeFile(
    conf,
    '[global]\nindex-url = http://127.0.0.1:3/conf/simple\nextra-index-url = http://127.0.0.1:4/extra/simple\nfind-links = /tmp\n',
  );
  assert.equal(
    await resolveIndexUrl({ env: cleanEnv({ PIP_CONFIG_FILE: conf }) }),
    'http://127.0.0.1:3/conf/simple/',
  );
});

test("without any setting, pip's own default is used", async () => {
  const expected = execFileSync(
    'python3',
    ['-c', 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)'],
    {
      encoding: 'utf8',
    },
  ).trim();
  const url = await resolveIndexUrl({ env: cleanEnv() });
  assert.equal(url, `${expected.replace(/\/$/, '')}/`);
  assert.match(url, /^https:\/\//);
});

test('directories and file URLs become file:// URLs; junk is CONFIG_INVALID', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pkghunt-dirindex-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const expected = `${pathToFileURL(dir).href}/`;
  assert.equal(await resolveIndexUrl({ cliValue: dir, env: cleanEnv() }), expected);
  assert.equal(await resolveIndexUrl({ cliValue: pathToFileURL(dir).href, env: cleanEnv() }), expected);
  for (const junk of ['ftp://127.0.0.1/simple', 'not a url', 'http://', '/nonexistent/pkghunt-no-such-dir']) {
    await assert.rejects(
      resolveIndexUrl({ cliValue: junk, env: cleanEnv() }),
      (e: unknown) => isPkghuntError(e) && e.code === 'CONFIG_INVALID',
      junk,
    );
  }
  await assert.rejects(
    resolveIndexUrl({ env: cleanEnv({ PIP_INDEX_URL: 'javascript:alert(1)' }) }),
    (e: unknown) => isPkghuntError(e) && e.code === 'CONFIG_INVALID',
  );
});
