import { entropy } from '../detect/rules/dns-rules.ts';
import {
  isSetupPy,
  lineAt,
  type SourceFile,
  type StaticHit,
  type StaticRule,
  snippet,
} from './static-rule.ts';

const DANGEROUS_API =
  /\b(os\.system|os\.popen|os\.exec\w*|os\.spawn\w*|subprocess\b|Popen|check_output|check_call|urlopen|urllib\.request|urlretrieve|requests\.(get|post|put)|http\.client|httpx|socket\b|pty\b|ctypes\b|webbrowser|b64decode|marshal\.loads|getpass|__import__|\bexec\s*\(|\beval\s*\()/;
const DECODE =
  /\b(b64decode|b32decode|b16decode|b85decode|a85decode|decodebytes|decodestring|decompress|unhexlify|fromhex|codecs\.decode|rot_?13|marshal\.loads|zlib|lzma|bz2|base64)\b|\[::-1\]/;
const FETCH =
  /\b(urlopen|urlretrieve|urllib|requests\.(get|post)|httpx|http\.client|socket|curl|wget|Request\()\b/;
const EXEC_CALL = /(^|[^\w.])(exec|eval)\s*\(/;

function findAll(text: string, pattern: RegExp, describe: (m: RegExpExecArray) => string): StaticHit[] {
  const hits: StaticHit[] = [];
  const global = new RegExp(
    pattern.source,
    pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
  );
  for (let m = global.exec(text); m !== null && hits.length < 5; m = global.exec(text)) {
    hits.push({ line: lineAt(text, m.index), text: describe(m) });
    if (m[0].length === 0) global.lastIndex++;
  }
  return hits;
}

/** Top-level statements of a script (outside def/class), each with its first line and full text. */
export function topLevelStatements(lines: readonly string[]): { line: number; text: string }[] {
  const out: { line: number; text: string; definition: boolean }[] = [];
  let depth = 0;
  lines.forEach((raw, i) => {
    const code = raw.replace(/#.*$/, '').replace(/(['"])(?:\\.|(?!\1).)*\1/g, '""');
    const startsNew = depth === 0 && /^\S/.test(raw) && !/^\s*#/.test(raw);
    if (startsNew) {
      const definition = /^(def|class|async\s+def|@)/.test(raw) || /^if\s+__name__\s*==/.test(raw);
      out.push({ line: i + 1, text: raw, definition });
    } else if (out.length > 0) {
      const last = out[out.length - 1];
      if (last) last.text += `\n${raw}`;
    }
    for (const ch of code) {
      if ('([{'.includes(ch)) depth++;
      else if (')]}'.includes(ch)) depth = Math.max(0, depth - 1);
    }
  });
  return out.filter((s) => !s.definition).map(({ line, text }) => ({ line, text }));
}

/** `exec(open("pkg/_version.py").read())` is how many setup.py files read their version. */
const VERSION_EXEC = /\b(exec|eval)\s*\(\s*(compile\s*\(\s*)?(open|f\.read|fp\.read|read_file|read)\s*\(/g;

function dangerous(text: string): boolean {
  return DANGEROUS_API.test(text.replace(VERSION_EXEC, ''));
}

export const installHookRule: StaticRule = {
  id: 'static.install-hook',
  severity: 'low',
  title: 'setup.py overrides setuptools commands (cmdclass)',
  description:
    'cmdclass replaces what pip runs at install: low on its own (native builds do it for build_ext), medium when it overrides install/develop/egg_info and setup.py also reaches for processes, the network or exec.',
  attack: 'T1546',
  scan(file, lines) {
    if (!isSetupPy(file.path)) return [];
    const at = lines.findIndex((l) => /\bcmdclass\b/.test(l));
    if (at < 0) return [];
    const installish = /['"]?(install|develop|egg_info|bdist_egg)['"]?\s*[:=]/.test(
      file.text.slice(file.text.indexOf('cmdclass')),
    );
    const severity = installish && DANGEROUS_API.test(file.text) ? 'medium' : 'low';
    return [{ line: at + 1, text: snippet(lines[at] ?? ''), severity }];
  },
};

export const setupTopLevelRule: StaticRule = {
  id: 'static.setup-code',
  severity: 'medium',
  title: 'setup.py runs processes, network or exec at top level (outside setup())',
  description:
    'A top-level statement of setup.py, run by every pip install and build, calls a process, network, exec/eval or dynamic import API.',
  attack: 'T1059.006',
  scan(file, lines) {
    if (!isSetupPy(file.path)) return [];
    return topLevelStatements(lines)
      .filter((s) => !/^\s*(from\s+\S+\s+)?import\s/.test(s.text) && !/^setup\s*\(/.test(s.text))
      .filter((s) => dangerous(s.text))
      .slice(0, 5)
      .map((s) => ({ line: s.line, text: snippet(s.text.split('\n').find(dangerous) ?? s.text) }));
  },
};

/** Statements an exec/eval is in, with two lines either side (payloads are often split over lines). */
function execWindows(lines: readonly string[]): { line: number; window: string; text: string }[] {
  const out: { line: number; window: string; text: string }[] = [];
  lines.forEach((l, i) => {
    if (!EXEC_CALL.test(l.replace(/#.*$/, ''))) return;
    out.push({ line: i + 1, window: lines.slice(Math.max(0, i - 2), i + 3).join('\n'), text: l });
  });
  return out;
}

export const execDecodedRule: StaticRule = {
  id: 'static.exec-decoded',
  severity: 'high',
  title: 'exec/eval of decoded or decompressed data',
  description:
    'exec(base64.b64decode(...)), eval(zlib.decompress(...)), exec of reversed or hex strings: code hidden from readers.',
  attack: 'T1027',
  scan(_file, lines) {
    return execWindows(lines)
      .filter((w) => DECODE.test(w.text) || (DECODE.test(w.window) && !FETCH.test(w.window)))
      .slice(0, 5)
      .map((w) => ({ line: w.line, text: snippet(w.text) }));
  },
};

export const execDownloadedRule: StaticRule = {
  id: 'static.exec-downloaded',
  severity: 'critical',
  title: 'exec/eval of downloaded code',
  description:
    'exec(urlopen(...).read()), exec(requests.get(...).text) and the like: runs whatever a server sends.',
  attack: 'T1105',
  scan(_file, lines) {
    return execWindows(lines)
      .filter((w) => FETCH.test(w.window))
      .slice(0, 5)
      .map((w) => ({ line: w.line, text: snippet(w.text) }));
  },
};

export const encodedBlobRule: StaticRule = {
  id: 'static.encoded-blob',
  severity: 'medium',
  title: 'embeds an encoded blob (base64, hex, compressed bytes, long integer arrays)',
  description:
    'A long base64 or hex literal, a zlib/bz2/lzma literal, or an array of 100+ small integers (character codes): how payloads are carried. Medium in setup.py and __init__.py, low elsewhere.',
  attack: 'T1027',
  scan(file) {
    const severity = isSetupPy(file.path) || /__init__\.py$/.test(file.path) ? 'medium' : 'low';
    const hits = [
      // Digits and both cases: an encoding's alphabet, not a long identifier or a word list.
      ...findAll(
        file.text,
        /['"](?=[^'"]*\d)(?=[^'"]*[a-z])(?=[^'"]*[A-Z])([A-Za-z0-9+/]{200,}={0,2})['"]/,
        (m) => `base64-like literal of ${m[1]?.length} characters`,
      ),
      ...findAll(
        file.text,
        /['"]((\\x[0-9a-fA-F]{2}){60,}|[0-9a-fA-F]{200,})['"]/,
        (m) => `hex literal of ${m[1]?.length} characters`,
      ),
      ...findAll(
        file.text,
        /\b(zlib|bz2|lzma)\.decompress\(\s*b['"]/,
        (m) => `${m[1]}.decompress of a bytes literal`,
      ),
      ...findAll(
        file.text,
        /[[(]\s*(\d{1,4}\s*,\s*){100,}/,
        (m) => `array of ${m[0].split(',').length - 1}+ integers`,
      ),
    ];
    return hits.slice(0, 5).map((h) => ({ ...h, severity }));
  },
};

export const powershellEncodedRule: StaticRule = {
  id: 'static.powershell-encoded',
  severity: 'high',
  title: 'runs powershell with an encoded command',
  description: 'powershell -EncodedCommand / -enc / -e BASE64: a Windows payload hidden from readers.',
  attack: 'T1059.001',
  scan(file) {
    return findAll(
      file.text,
      /(powershell|pwsh)(\.exe)?['",\s]+[^\n]{0,80}?-(e|en|enc|enco|encodedcommand)['",\s]+[A-Za-z0-9+/=]{16,}|-EncodedCommand\b/i,
      (m) => snippet(m[0]),
    );
  },
};

const METADATA_LINE =
  /\b(url|project_urls|homepage|home_page|download_url|documentation|Documentation|Source|Tracker|Homepage|Bug|Changelog|license)\b|^\s*#/i;
const IPV4 = /\b(?<![\d.])((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])\b/;

export const urlInSetupRule: StaticRule = {
  id: 'static.url-in-setup',
  severity: 'low',
  title: 'setup.py names URLs or IP addresses outside its metadata',
  description:
    'A URL (low) or a literal IPv4 address (medium) in setup.py, outside the url=/project_urls metadata and comments: where an install-time payload would fetch from or send to.',
  attack: 'T1071.001',
  scan(file, lines) {
    if (!isSetupPy(file.path)) return [];
    const hits: StaticHit[] = [];
    lines.forEach((l, i) => {
      if (METADATA_LINE.test(l) || /version/i.test(l)) return;
      const ip = IPV4.exec(l);
      if (ip && !['127.0.0.1', '0.0.0.0'].includes(ip[0]))
        hits.push({ line: i + 1, text: snippet(l), severity: 'medium' });
      else if (/\b(https?|ftp):\/\/[^\s'"]+/.test(l)) hits.push({ line: i + 1, text: snippet(l) });
    });
    return hits.slice(0, 5);
  },
};

export const longStringRule: StaticRule = {
  id: 'static.long-string',
  severity: 'low',
  title: 'very long or high-entropy string literal',
  description:
    'A string literal of 1000+ characters, or of 200+ characters with more than 5 bits of entropy per character.',
  attack: 'T1027',
  scan(file) {
    const hits: StaticHit[] = [];
    const literal = /(['"])((?:\\.|(?!\1)[^\\\n]){200,})\1/g;
    for (let m = literal.exec(file.text); m !== null && hits.length < 5; m = literal.exec(file.text)) {
      const body = m[2] ?? '';
      const bits = entropy(body);
      if (body.length >= 1000 || bits > 5.0)
        hits.push({
          line: lineAt(file.text, m.index),
          text: `${body.length}-character literal, ${bits.toFixed(1)} bits/char: ${snippet(body, 60)}`,
        });
    }
    return hits;
  },
};

export const whitespaceHiddenRule: StaticRule = {
  id: 'static.whitespace-hidden',
  severity: 'high',
  title: 'code hidden after a long run of whitespace',
  description:
    'A line with 80+ spaces or tabs followed by more code (e.g. `import os` then 200 spaces then `;exec(...)`): pushes the payload off-screen in editors and diffs.',
  attack: 'T1564',
  scan(_file, lines) {
    const hits: StaticHit[] = [];
    lines.forEach((l, i) => {
      const m = /\S[ \t]{80,}([^\s#].*)$/.exec(l) ?? /^[ \t]{120,}([^\s#].*)$/.exec(l);
      if (m && hits.length < 5) hits.push({ line: i + 1, text: `hidden: ${snippet(m[1] ?? '')}` });
    });
    return hits;
  },
};

export const obfuscatedCallRule: StaticRule = {
  id: 'static.obfuscated-call',
  severity: 'medium',
  title: 'obfuscated imports or calls (__import__ of computed names, chr() arithmetic)',
  description:
    'getattr(__import__(...)), __import__ of a computed name, builtins looked up by string, or character codes assembled with chr(): names hidden from readers and scanners.',
  attack: 'T1027',
  scan(file) {
    return [
      ...findAll(file.text, /getattr\(\s*__import__\s*\(/, () => 'getattr(__import__(...))'),
      ...findAll(file.text, /__import__\s*\(\s*[\w.]+\s*\(/, () => '__import__ of a computed name'),
      ...findAll(
        file.text,
        /__builtins__\s*[[.]\s*(\[|__dict__|get)|globals\(\)\s*\[\s*['"](exec|eval)/,
        (m) => snippet(m[0]),
      ),
      ...findAll(file.text, /chr\(\s*\(?\s*\w+\s*[-+*/%^]/, (m) => `chr() arithmetic: ${snippet(m[0])}`),
      ...findAll(file.text, /join\(\s*map\(\s*chr\s*,/, () => "''.join(map(chr, ...))"),
    ].slice(0, 5);
  },
};

/** Every static rule, most severe first. */
export const STATIC_RULES: readonly StaticRule[] = [
  execDownloadedRule,
  execDecodedRule,
  powershellEncodedRule,
  whitespaceHiddenRule,
  setupTopLevelRule,
  obfuscatedCallRule,
  encodedBlobRule,
  installHookRule,
  urlInSetupRule,
  longStringRule,
];

export type { SourceFile };
