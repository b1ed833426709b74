import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmd, conn, DEP, dns, file, testRecord } from '../population/_test-records.ts';
import { diffFromPrevious, diffRecords, isEmptyDiff } from './diff-records.ts';
import { renderDiff } from './render-diff.ts';

const v1 = testRecord('ph-x', '1.0.0', {
  install: {
    commands: [cmd(['gcc', '-c', '/tmp/tmpaaaaaaaa/x.c'])],
    connections: [conn('old.example', '127.53.0.1', 443)],
    files: [file('/tmp/ph_x-1.0.0/out', ['write']), file('/etc/hosts', ['read'])],
  },
});

test('a version bump alone is no change', () => {
  const v2 = testRecord('ph-x', '2.0.0', {
    install: {
      commands: [cmd(['gcc', '-c', '/tmp/tmpbbbbbbbb/x.c'])],
      connections: [conn('old.example', '127.53.0.9', 443)],
      files: [file('/tmp/ph_x-2.0.0/out', ['write']), file('/etc/hosts', ['read'])],
    },
  });
  assert.ok(isEmptyDiff(diffRecords(v1, v2)));
});

test('new and gone hosts, names, commands and writes, with attribution', () => {
  const v2 = testRecord('ph-x', '2.0.0', {
    install: {
      commands: [cmd(['id', '-un']), cmd(['curl', 'http://new.example/p'], DEP)],
      dns: [dns('new.example')],
      files: [file('/home/builder/.bashrc', ['write']), file('/etc/passwd', ['read'])],
    },
  });
  const diff = diffRecords(v1, v2);
  assert.deepEqual(
    diff.new.commands.map((i) => i.example),
    ['curl http://new.example/p', 'id -un'],
  );
  assert.deepEqual(diff.new.commands[0]?.by, [DEP]);
  assert.deepEqual(
    diff.new.dns.map((i) => i.key),
    ['new.example'],
  );
  // Reads are not writes: /etc/passwd is not a new file write.
  assert.deepEqual(
    diff.new.file_writes.map((i) => i.example),
    ['/home/builder/.bashrc'],
  );
  assert.deepEqual(
    diff.gone.hosts.map((i) => i.key),
    ['old.example'],
  );
  assert.deepEqual(
    diff.gone.commands.map((i) => i.key),
    ['gcc -c <path>'],
  );
  assert.equal(diff.from, '1.0.0');
  assert.equal(diff.to, '2.0.0');
  const short = diffFromPrevious(v1, v2);
  assert.equal(short.version, '1.0.0');
  assert.deepEqual(short.new_commands, ['curl http://new.example/p', 'id -un']);
  assert.deepEqual(short.new_hosts, []);
  const text = renderDiff(diff);
  assert.match(text, /\+ id -un/);
  assert.match(text, /\+ curl http:\/\/new\.example\/p \(by dependency evil-dep\)/);
  assert.match(text, /- old\.example/);
});
