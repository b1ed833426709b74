import { entropy } from '../detect/rules/dns-rules.ts';
import {
  isInstallTimeFile,
  isSetupPy,
  isTestOrDocs,
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

/** A call that fetches data from the network (strings and comments removed before matching). */
const FETCH_CALL =
  /(urlopen|urlretrieve|urllib\.request\.\w+|requests['")\]]*\.(get|post|request)|httpx['")\]]*\.(get|post|request|stream)|http\.client\.\w+|\.recv(from)?|\.read_from_socket|create_connection)\s*\(/;
/** curl/wget run as a process: named inside the strings of the call. */
const FETCH_TOOL = /\b(curl|wget)\b/;

/** A line without its comment and with every string literal emptied. */
function codeOnly(line: string): string {
  return line.replace(/(['"])(?:\\.|(?!\1).)*\1/g, '""').replace(/#.*$/, '');
}

/** The text of a call's argument list starting at `open` (the index of its `(`), over lines if needed. */
function callArguments(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length && i < open + 2000; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1, open + 2000);
}

function identifiers(text: string): Set<string> {
  return new Set(codeOnly(text).match(/\b[A-Za-z_]\w*\b/g) ?? []);
}

/**
 * Names that hold fetched data in the lines before `at`: assigned from a fetch call (or from a
 * name that already does), or bound by `with urlopen(...) as NAME`.
 */
function fetchedNames(lines: readonly string[], at: number): Set<string> {
  const tainted = new Set<string>();
  for (const raw of lines.slice(Math.max(0, at - 15), at)) {
    const code = codeOnly(raw);
    const assign = /^\s*([A-Za-z_][\w\s,]*?)\s*=(?!=)(.*)$/.exec(code);
    const bound = /\bwith\b(.*)\bas\s+([A-Za-z_]\w*)/.exec(code);
    const [targets, value] = assign
      ? [assign[1] ?? '', assign[2] ?? '']
      : bound
        ? [bound[2] ?? '', bound[1] ?? '']
        : ['', ''];
    if (!targets) continue;
    const fromFetch =
      FETCH_CALL.test(value) ||
      [...identifiers(value)].some((name) => tainted.has(name)) ||
      FETCH_TOOL.test(raw);
    if (fromFetch) for (const name of targets.split(',')) tainted.add(name.trim());
  }
  return tainted;
}

export const execDownloadedRule: StaticRule = {
  id: 'static.exec-downloaded',
  severity: 'critical',
  title: 'exec/eval of downloaded code',
  description:
    'exec(urlopen(...).read()), exec(requests.get(...).text), or exec of a name assigned from such a fetch in the lines before: runs whatever a server sends. Data merely read near an exec (a socket server evaluating its own input line) is not enough.',
  attack: 'T1105',
  scan(file, lines) {
    const hits: StaticHit[] = [];
    let offset = 0;
    lines.forEach((line, i) => {
      const start = offset;
      offset += line.length + 1;
      // Raw text (strings included): a payload written out as a string and run later counts too.
      const call = EXEC_CALL.exec(line.replace(/#.*$/, ''));
      if (!call || hits.length >= 5) return;
      const args = callArguments(file.text, start + call.index + call[0].length - 1);
      const direct = FETCH_CALL.test(args) || FETCH_TOOL.test(args);
      const fetched = direct ? null : fetchedNames(lines, i);
      if (direct || [...identifiers(args)].some((name) => fetched?.has(name)))
        hits.push({ line: i + 1, text: snippet(line) });
    });
    return hits;
  },
};

export const encodedBlobRule: StaticRule = {
  id: 'static.encoded-blob',
  severity: 'medium',
  title: 'embeds an encoded blob (base64, hex, compressed bytes, long integer arrays)',
  description:
    'A long base64 (not an embedded image) or hex literal, a zlib/bz2/lzma literal, or an array of 100+ small integers (character codes): how payloads are carried. Medium in setup.py and __init__.py, low elsewhere.',
  attack: 'T1027',
  scan(file) {
    const severity = isSetupPy(file.path) || /__init__\.py$/.test(file.path) ? 'medium' : 'low';
    const hits = [
      // Digits and both cases: an encoding's alphabet, not a long identifier or a word list.
      ...findAll(
        file.text,
        /['"](?=[^'"]*\d)(?=[^'"]*[a-z])(?=[^'"]*[A-Z])([A-Za-z0-9+/]{200,}={0,2})['"]/,
        (m) => (IMAGE_BASE64.test(m[1] ?? '') ? '' : `base64-like literal of ${m[1]?.length} characters`),
      ).filter((h) => h.text !== ''),
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

const ENCODED_FLAG = /-(encodedcommand|enco|enc|ec|e)\b/gi;
const BASE64_PAYLOAD = /^['",\s]+([A-Za-z0-9+/]{16,}={0,2})/;

/** Names assigned a base64-looking literal of 40+ characters in the file. */
function base64Names(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\b([A-Za-z_]\w*)\s*=\s*[bru]?['"]([A-Za-z0-9+/]{40,}={0,2})['"]/g))
    if (m[1]) names.add(m[1]);
  return names;
}

export const powershellEncodedRule: StaticRule = {
  id: 'static.powershell-encoded',
  severity: 'high',
  title: 'runs powershell with an encoded command',
  description:
    'powershell -EncodedCommand / -enc / -e followed by a base64 payload (a literal, or a name assigned one in the file): a Windows payload hidden from readers. A bare mention of the flag with a command encoded at run time (azure-identity) is not enough.',
  attack: 'T1059.001',
  scan(file) {
    const hits: StaticHit[] = [];
    let names: Set<string> | null = null;
    for (const m of file.text.matchAll(ENCODED_FLAG)) {
      if (hits.length >= 5) break;
      const at = m.index ?? 0;
      const short = (m[1] ?? '').toLowerCase() !== 'encodedcommand';
      // The short forms are flags of anything: only after powershell/pwsh on the same line.
      if (short && !/(powershell|pwsh)(\.exe)?\b[^\n]*$/i.test(file.text.slice(Math.max(0, at - 200), at)))
        continue;
      const after = file.text.slice(at + m[0].length, at + m[0].length + 400);
      const literal = BASE64_PAYLOAD.exec(after);
      names ??= base64Names(file.text);
      const name = /^['"]?\s*[,+]?\s*([A-Za-z_]\w*)/.exec(after)?.[1];
      if (literal || (name !== undefined && names.has(name)))
        hits.push({
          line: lineAt(file.text, at),
          text: snippet(file.text.slice(at, at + 120).split('\n')[0] ?? ''),
        });
    }
    return hits;
  },
};

const PS_DOWNLOAD =
  /\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString|DownloadFile|DownloadData|Net\.WebClient|Start-BitsTransfer)\b/i;
const PS_RUN = /\b(iex|Invoke-Expression|Start-Process)\b|\|\s*&|-ExecutionPolicy\s+Bypass/i;

export const powershellCradleRule: StaticRule = {
  id: 'static.powershell-cradle',
  severity: 'high',
  title: 'PowerShell download-and-run code',
  description:
    'PowerShell text that downloads from a URL (iwr, Invoke-WebRequest, Net.WebClient, DownloadString, ...) and runs (iex, Invoke-Expression, Start-Process, -ExecutionPolicy Bypass) within a few lines: a Windows dropper. Keyword lists (syntax highlighters) name no URL and do not count. High in setup.py and other install-time files, medium elsewhere.',
  attack: 'T1059.001',
  scan(file, lines) {
    const severity = isInstallTimeFile(file.path) ? 'high' : 'medium';
    if (isTestOrDocs(file.path)) return [];
    const hits: StaticHit[] = [];
    lines.forEach((line, i) => {
      if (hits.length >= 5 || !PS_DOWNLOAD.test(line)) return;
      // A command, not a word list (a PowerShell lexer's keywords): it names where it downloads from.
      const window = lines.slice(Math.max(0, i - 3), i + 4).join('\n');
      if (PS_RUN.test(window) && /\b(https?|ftp):\/\/\S/.test(window))
        hits.push({ line: i + 1, text: snippet(line), severity });
    });
    return hits;
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

/** Base64 of an image (GIF, PNG, JPEG, WebP, ICO, SVG) or a data: URL of one: embedded pictures. */
const IMAGE_BASE64 = /^(data:image\/[\w+.-]+;base64,|R0lGOD|iVBORw0KGgo|\/9j\/|UklGR|AAABAA|PHN2Zy|PD94bWwg)/;

/**
 * Shapes of long literals that are data, not payloads: an embedded image, or a regular
 * expression's character class (`[\w·̀-ͯ...]+`, Unicode identifier tables).
 */
export function isBenignShape(body: string): boolean {
  if (IMAGE_BASE64.test(body)) return true;
  // A Unicode range table (`\u0378-\u0379\u0380-...`, `a-z\xb5\xdf-\xf6`): a class body without brackets.
  if (
    /^(?:\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\x[0-9a-fA-F]{2}|\\N\{[^}]*\}|[A-Za-z0-9_]|-)+$/.test(body) &&
    (body.match(/-/g) ?? []).length >= 10
  )
    return true;
  return (
    /^\^?\[(?:\\.|[^\]\\])+\][+*?]*\$?$/s.test(body) ||
    /^\^?\[[^\]]*\]\[(?:\\.|[^\]\\])+\][+*?]*\$?$/s.test(body)
  );
}

export const longStringRule: StaticRule = {
  id: 'static.long-string',
  severity: 'low',
  title: 'very long or high-entropy string literal',
  description:
    'A string literal of 1000+ characters, or of 200+ characters with more than 5 bits of entropy per character; embedded images (base64 GIF/PNG/JPEG/SVG), regular-expression character classes and Unicode range tables are left out.',
  attack: 'T1027',
  scan(file) {
    const hits: StaticHit[] = [];
    const literal = /(['"])((?:\\.|(?!\1)[^\\\n]){200,})\1/g;
    for (let m = literal.exec(file.text); m !== null && hits.length < 5; m = literal.exec(file.text)) {
      const body = m[2] ?? '';
      if (isBenignShape(body)) continue;
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

/** Lines (0-based) that are inside a triple-quoted string (docstrings, embedded text). */
function linesInTripleStrings(lines: readonly string[]): Set<number> {
  const inside = new Set<number>();
  let open: string | null = null;
  lines.forEach((line, i) => {
    const startedInside = open !== null;
    const code = line.replace(/\\./g, '');
    for (const m of code.matchAll(/"""|'''|#/g)) {
      if (open === null && m[0] === '#') break;
      if (m[0] === '#') continue;
      if (open === null) open = m[0];
      else if (open === m[0]) open = null;
    }
    if (startedInside || open !== null) inside.add(i);
  });
  return inside;
}

/** Text that reads as a Python statement, not a table cell, ASCII art or prose. */
const HIDDEN_CODE =
  /^;?\s*(import\s+\w|from\s+[\w.]+\s+import\b|(exec|eval|compile|__import__|getattr|os\.\w+|subprocess\.\w+)\s*\(|[A-Za-z_][\w.]*\s*(\(|=[^=]|\[[^\]]*\]\s*=))/;

/** True when `prefix` leaves a string literal open (the run is inside a string: data). */
function opensString(prefix: string): boolean {
  const code = prefix.replace(/\\./g, '');
  let quote: string | null = null;
  for (const ch of code) {
    if (quote === null && ch === '#') return true; // a comment: not code either
    if (ch === '"' || ch === "'") quote = quote === null ? ch : quote === ch ? null : quote;
  }
  return quote !== null;
}

export const whitespaceHiddenRule: StaticRule = {
  id: 'static.whitespace-hidden',
  severity: 'high',
  title: 'code hidden after a long run of whitespace',
  description:
    'A line of code with 100+ spaces or tabs followed by another statement (e.g. `import os` then 200 spaces then `;exec(...)`): pushes the payload off-screen in editors and diffs. Runs inside docstrings, comments and string data, and text that is not a statement (tables, ASCII art), do not count.',
  attack: 'T1564',
  scan(_file, lines) {
    const hits: StaticHit[] = [];
    let strings: Set<number> | null = null;
    lines.forEach((l, i) => {
      if (hits.length >= 5) return;
      const m = /^(.*\S)[ \t]{100,}(\S.*)$/.exec(l) ?? /^()[ \t]{150,}(\S.*)$/.exec(l);
      if (!m) return;
      const [, prefix = '', hidden = ''] = m;
      strings ??= linesInTripleStrings(lines);
      if (strings.has(i) || /^\s*#/.test(prefix) || opensString(prefix) || !HIDDEN_CODE.test(hidden)) return;
      hits.push({ line: i + 1, text: `hidden: ${snippet(hidden)}` });
    });
    return hits;
  },
};

export const obfuscatedCallRule: StaticRule = {
  id: 'static.obfuscated-call',
  severity: 'medium',
  title: 'obfuscated imports or calls (__import__ of computed names, chr() arithmetic)',
  description:
    'getattr(__import__(...)), __import__ of a computed name, builtins looked up by string, or character codes assembled with chr(): names hidden from readers and scanners. Only in what an install or an import runs first (setup.py, .pth files, a top-level __init__.py or module): library internals (template engines, parsers) use these idioms for good reasons.',
  attack: 'T1027',
  scan(file) {
    if (!isInstallTimeFile(file.path)) return [];
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
  powershellCradleRule,
  whitespaceHiddenRule,
  setupTopLevelRule,
  obfuscatedCallRule,
  encodedBlobRule,
  installHookRule,
  urlInSetupRule,
  longStringRule,
];

export type { SourceFile };
