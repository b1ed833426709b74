import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hexDump, isBinary, previewBytes } from './hex-view.ts';
import { html, SafeHtml, trustedHtml } from './html.ts';
import { processTree } from './process-tree.ts';

test('html escapes every interpolation, nested arrays included, and keeps SafeHtml as is', () => {
  const evil = '<script>alert(1)</script>" onerror="x';
  const out =
    html`<p title="${evil}">${evil}${[evil, html`<i>${evil}</i>`]}${null}${false}${3}</p>`.toString();
  assert.ok(!out.includes('<script>'));
  assert.ok(!out.includes('" onerror'));
  assert.equal((out.match(/&lt;script&gt;/g) ?? []).length, 4);
  assert.ok(out.includes('<i>&lt;script'), 'our own markup stays');
  assert.ok(out.endsWith('3</p>'));
  assert.equal(trustedHtml('<svg></svg>').toString(), '<svg></svg>');
  assert.throws(() => new SafeHtml('<b>', Symbol('SafeHtml')), /only/);
});

test('a sent preview decodes back to its bytes and dumps as hex', () => {
  const bytes = previewBytes('GET /\\x00\\xff\\\\x<>');
  assert.deepEqual([...bytes], [0x47, 0x45, 0x54, 0x20, 0x2f, 0x00, 0xff, 0x5c, 0x78, 0x3c, 0x3e]);
  assert.equal(isBinary(bytes), true);
  assert.equal(isBinary(previewBytes('GET / HTTP/1.1\\x0d\\x0a')), false);
  const [line] = hexDump(bytes);
  assert.deepEqual(line, {
    offset: '00000000',
    hex: '47 45 54 20 2f 00 ff 5c 78 3c 3e',
    ascii: 'GET /..\\x<>',
  });
  assert.equal(hexDump(new Uint8Array(33)).length, 3);
});

test('commands form a tree by pid and ppid', () => {
  const cmd = (pid: number, ppid: number | null, argv: string[]) => ({
    argv,
    cwd: null,
    pid,
    ppid,
    time: 0,
    exe: argv[0] ?? '',
  });
  const tree = processTree([
    cmd(10, 1, ['pip']),
    cmd(11, 10, ['sh', '-c', 'x']),
    cmd(11, 10, ['curl']),
    cmd(12, 99, ['orphan']),
  ]);
  assert.deepEqual(
    tree.map((n) => n.command.argv[0]),
    ['pip', 'orphan'],
  );
  assert.equal(tree[0]?.children[0]?.command.argv[0], 'sh');
  assert.equal(
    tree[0]?.children[0]?.children[0]?.command.argv[0],
    'curl',
    'an exec of the same pid nests under it',
  );
  assert.equal(tree[0]?.children[0]?.children[0]?.index, 2);
});
