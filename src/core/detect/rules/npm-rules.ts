import type { Severity } from '../../record/schema.ts';
import { SANDBOX_LAYOUT } from '../../sandbox/layout.ts';
import { type StaticFinding, scanStaticSignals } from '../../static/scan-static-signals.ts';
import {
  lineAt,
  type SourceFile,
  type StaticHit,
  type StaticRule,
  snippet,
} from '../../static/static-rule.ts';
import { type PhaseView, type RecordView, showArgv } from '../record-view.ts';
import type { Rule, RuleHit } from '../rule.ts';
import { shellScript } from './exec-rules.ts';

/** Fetches code or data: a download tool, or node/JS reaching the network. */
const FETCH =
  /\b(curl|wget|fetch\s*\(|https?\.(get|request)\s*\(|require\(\s*['"]https?['"]\s*\)|https?:\/\/|nc\s|ncat\s)/;
/** Runs what it fetched: piped into an interpreter, eval'd, made executable and run, or written then run. */
const RUN =
  /\|\s*(sudo\s+)?(ba|da|z)?sh\b|\|\s*node\b|\|\s*python3?\b|\beval\s*\(|new\s+Function\s*\(|\bchmod\s+(\+|[0-7]*[157])[0-7]*x?\b|&&\s*\.\/|\bsh\s+-c\b|child_process|\bexecSync\b|\bspawn(Sync)?\s*\(/;

function isNpmRecord(record: { package: { ecosystem: string } }): boolean {
  return record.package.ecosystem === 'npm';
}

function lifecycleScripts(view: PhaseView) {
  return view.phase.commands
    .map((value, i) => ({ value, pointer: `/phases/${view.name}/commands/${i}` }))
    .filter(
      ({ value }) =>
        value.by?.method === 'script-cwd' && (value.by.kind === 'package' || value.by.kind === 'dependency'),
    );
}

export const npmInstallScriptFetchExecRule: Rule = {
  id: 'npm.install-script-fetch-exec',
  severity: 'high',
  title: 'an npm install script fetches code and runs it',
  description:
    'A lifecycle script (preinstall, install, postinstall) that npm ran in a package folder downloads something and executes it (piped into a shell or node, eval, chmod +x and run). The install-time dropper pattern of npm malware.',
  attack: 'T1105',
  match(record, view) {
    if (!isNpmRecord(record)) return [];
    const hits: RuleHit[] = [];
    for (const p of view.phases) {
      for (const c of lifecycleScripts(p)) {
        const script = shellScript(c.value.argv) ?? c.value.argv.join(' ');
        if (!FETCH.test(script) || !RUN.test(script)) continue;
        const by = c.value.by;
        hits.push({
          phase: p.name,
          culprit: by ? { kind: by.kind, distribution: by.distribution } : null,
          evidence: [{ pointer: c.pointer, text: showArgv(c.value.argv) }],
        });
      }
    }
    return hits;
  },
};

const NPMRC = `${SANDBOX_LAYOUT.home}/.npmrc`;

/**
 * An npm record in which no code reached the network (no connection, no DNS query, in any phase).
 * JavaScript config loaders (global-prefix, rc, registry-auth-token, ...) read ~/.npmrc in benign
 * packages; a read that nothing sends anywhere is no theft, one followed by any traffic may be
 * (over TLS the sinkhole sees where, not what).
 */
export function npmNetworkSilent(record: { package: { ecosystem: string } }, view: RecordView): boolean {
  return isNpmRecord(record) && view.phases.every((p) => p.connections.length === 0 && p.dns.length === 0);
}

export const npmrcReadRule: Rule = {
  id: 'npm.npmrc-read',
  severity: 'high',
  title: 'reads ~/.npmrc (npm registry tokens)',
  description:
    "Package code (not npm itself, which reads its own configuration) opened the user's ~/.npmrc, where npm keeps registry auth tokens; the sandbox's holds a canary token. High; medium in an npm record where no code reached the network at all (config loaders such as global-prefix read it to find npm's prefix), and then canary.read leaves this read to this rule.",
  attack: 'T1552.001',
  match(record, view) {
    const hits: RuleHit[] = [];
    const silent = npmNetworkSilent(record, view);
    for (const p of view.phases) {
      for (const f of p.files) {
        if (f.value.path !== NPMRC || !f.value.ops.includes('read')) continue;
        hits.push({
          phase: p.name,
          culprit: f.culprit,
          ...(silent ? { severity: 'medium' as const } : {}),
          evidence: [
            {
              pointer: f.pointer,
              text: `${NPMRC} read${silent ? ' (no network activity in the record)' : ''}`,
            },
          ],
        });
      }
    }
    return hits;
  },
};

/** The dynamic npm rules, registered in all-rules.ts. */
export const NPM_RULES: readonly Rule[] = [npmInstallScriptFetchExecRule, npmrcReadRule];

// ---- static signals of an npm tarball (read in memory, never run) ----

const JS_FILE = /\.(js|cjs|mjs)$/;

function isManifest(path: string): boolean {
  return /^[^/]+\/package\.json$/.test(path);
}

function findAll(text: string, pattern: RegExp, limit = 5): { index: number; match: string }[] {
  const global = new RegExp(
    pattern.source,
    pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
  );
  const out: { index: number; match: string }[] = [];
  for (let m = global.exec(text); m !== null && out.length < limit; m = global.exec(text)) {
    out.push({ index: m.index, match: m[0] });
    if (m[0].length === 0) global.lastIndex++;
  }
  return out;
}

export const npmInstallScriptStaticRule: StaticRule = {
  id: 'npm.static.install-script',
  severity: 'low',
  title: 'package.json declares an install script (preinstall/install/postinstall)',
  description:
    'npm runs these on every install of the package, as a dependency too. Low on its own (native addons build this way); high when the script fetches and runs code.',
  attack: 'T1546',
  scan(file, lines) {
    if (!isManifest(file.path)) return [];
    let json: unknown;
    try {
      json = JSON.parse(file.text);
    } catch {
      return [];
    }
    const scripts = (json as { scripts?: Record<string, unknown> }).scripts ?? {};
    const hits: StaticHit[] = [];
    for (const name of ['preinstall', 'install', 'postinstall']) {
      const script = scripts[name];
      if (typeof script !== 'string') continue;
      const at = lines.findIndex((l) => l.includes(`"${name}"`));
      const severity: Severity =
        FETCH.test(script) && RUN.test(script) ? 'high' : FETCH.test(script) ? 'medium' : 'low';
      hits.push({ line: at + 1 || 1, text: snippet(`${name}: ${script}`), severity });
    }
    return hits;
  },
};

/** obfuscator.io's mangled names: `_0x1a2b3c`. */
const HEX_IDENT = /\b_0x[0-9a-f]{4,8}\b/gi;
/** A long run of \xNN or \uNNNN escapes inside one string. */
const ESCAPE_RUN = /(\\x[0-9a-fA-F]{2}){40,}|(\\u[0-9a-fA-F]{4}){30,}/g;
/** Share of an escape run that must decode to printable ASCII to be hidden text or code. */
const MIN_ASCII_SHARE = 0.8;

/**
 * A run of escapes that spells printable ASCII: what obfuscators emit for strings and code. Runs of
 * other code points are data written as escapes by compilers and bundlers (Unicode range tables
 * such as `\u2697\u2699...`, binary tables such as `\xe1\x01\x01...`), not hidden text.
 */
function hidesAsciiText(run: string): boolean {
  const codes = [...run.matchAll(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))/g)].map((m) =>
    Number.parseInt(m[1] ?? m[2] ?? '0', 16),
  );
  const ascii = codes.filter((c) => (c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0a || c === 0x0d);
  return codes.length > 0 && ascii.length / codes.length >= MIN_ASCII_SHARE;
}
/** A long hex or base64 literal (400+ characters). */
const BLOB = /['"`]([0-9a-fA-F]{400,}|[A-Za-z0-9+/]{600,}={0,2})['"`]/g;
/**
 * Base64 of "\0asm": a WebAssembly module inlined by a bundler (es-module-lexer in vite and Vue,
 * webpack's md4 in loader-utils). It can only call the JavaScript it is given, which is scanned.
 */
const WASM_BASE64 = /^['"`]AGFzbQ/;

export const obfuscatedJsRule: StaticRule = {
  id: 'npm.static.obfuscated-js',
  severity: 'medium',
  title: 'obfuscated JavaScript (_0x identifiers, long escape strings, hex/base64 blobs)',
  description:
    'Minified code is normal; mangled `_0x` identifiers in numbers, strings of \\x or \\u escapes that spell ASCII text and long encoded literals are what JavaScript obfuscators emit to hide a payload.',
  attack: 'T1027',
  scan(file, lines) {
    if (!JS_FILE.test(file.path) || /(^|\/)(test|tests|__tests__|docs?|examples?)\//.test(file.path))
      return [];
    const hits: StaticHit[] = [];
    const names = file.text.match(HEX_IDENT) ?? [];
    if (new Set(names.map((n) => n.toLowerCase())).size >= 5) {
      const first = file.text.search(HEX_IDENT);
      hits.push({
        line: lineAt(file.text, first),
        text: `${names.length} _0x identifiers: ${snippet(lines[lineAt(file.text, first) - 1] ?? '', 100)}`,
      });
    }
    const escaped = findAll(file.text, ESCAPE_RUN, 50).find((m) => hidesAsciiText(m.match));
    const blob = findAll(file.text, BLOB, 20).find((m) => !WASM_BASE64.test(m.match));
    for (const m of [escaped, blob]) {
      if (m)
        hits.push({
          line: lineAt(file.text, m.index),
          text: `${m.match.length}-character encoded string: ${snippet(m.match, 60)}`,
        });
    }
    return hits;
  },
};

/** eval / new Function / vm.run* of something decoded in the same statement. */
const EVAL_DECODED =
  /\b(eval|Function|runInThisContext|runInNewContext|runInContext)\s*\([^;]{0,400}?(Buffer\.from\([^)]*['"](base64|hex)['"]|atob\(|fromCharCode|decodeURIComponent\(|unescape\(|zlib\.\w*(inflate|gunzip)\w*)/;

export const evalDecodedJsRule: StaticRule = {
  id: 'npm.static.eval-decoded',
  severity: 'high',
  title: 'evaluates decoded data (eval / new Function of base64, hex or char codes)',
  description:
    'Decoding a string and evaluating it runs code that is not in the source as code: how packed payloads start.',
  attack: 'T1140',
  scan(file) {
    if (!JS_FILE.test(file.path)) return [];
    return findAll(file.text, EVAL_DECODED, 3).map((m) => ({
      line: lineAt(file.text, m.index),
      text: snippet(m.match),
    }));
  },
};

export const NPM_STATIC_RULES: readonly StaticRule[] = [
  npmInstallScriptStaticRule,
  obfuscatedJsRule,
  evalDecodedJsRule,
];

/**
 * Static signals of an npm tarball's files (package.json and JavaScript), one finding per rule with
 * FILE:LINE evidence, as scanStaticSignals does for Python sources.
 */
export function scanNpmStaticSignals(files: readonly SourceFile[]): StaticFinding[] {
  return scanStaticSignals(files, NPM_STATIC_RULES);
}
