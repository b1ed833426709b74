import { decodeStraceString } from './decode-strace-string.ts';
import type { StraceString, StraceValue } from './strace-event.ts';

/** Result of parsing an argument list: the values and where the closing `)` was (or -1 if none). */
export interface ParsedArgs {
  args: StraceValue[];
  /** Index just after the closing `)`; -1 when the text ended first. */
  end: number;
}

const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * Parses a strace argument list starting just after the syscall's `(`. Never throws: text it does
 * not understand becomes `raw` values.
 */
export function parseStraceArgs(text: string, start = 0): ParsedArgs {
  const cursor = { text, pos: start };
  const args = parseList(cursor, ')');
  if (cursor.pos < text.length && text[cursor.pos] === ')') return { args, end: cursor.pos + 1 };
  return { args, end: -1 };
}

interface Cursor {
  text: string;
  pos: number;
}

function skipSpaces(c: Cursor): void {
  while (c.pos < c.text.length && c.text[c.pos] === ' ') c.pos++;
}

/** Parses items separated by `, ` until `closer` (left unconsumed) or the end of the text. */
function parseList(c: Cursor, closer: string): StraceValue[] {
  const items: StraceValue[] = [];
  skipSpaces(c);
  while (c.pos < c.text.length && c.text[c.pos] !== closer) {
    const before = c.pos;
    items.push(parseItem(c, closer));
    skipSpaces(c);
    if (c.text[c.pos] === ',') {
      c.pos++;
      skipSpaces(c);
    } else if (c.pos === before) {
      // Stray character (e.g. an unbalanced closer): swallow it so we always make progress.
      c.pos++;
    }
  }
  return items;
}

/** `name=` at the cursor (sticky: no slice of the line per item; at most 63 chars, as before). */
const FIELD = /([A-Za-z_][A-Za-z0-9_.]{0,62})=/y;
/** `name(` at the cursor (at most 63 chars before the parenthesis). */
const CALL = /([A-Za-z_][A-Za-z0-9_]{0,62})\(/y;

function isNameStart(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

function parseItem(c: Cursor, closer: string): StraceValue {
  if (isNameStart(c.text.charCodeAt(c.pos))) {
    FIELD.lastIndex = c.pos;
    const field = FIELD.exec(c.text);
    if (field?.[1]) {
      c.pos += field[0].length;
      return { kind: 'field', name: field[1], value: parseValue(c, closer) };
    }
  }
  return parseValue(c, closer);
}

function parseValue(c: Cursor, closer: string): StraceValue {
  const ch = c.text[c.pos];
  if (ch === '"') return parseString(c, false);
  if (ch === '@' && c.text[c.pos + 1] === '"') {
    c.pos++;
    return parseString(c, true);
  }
  if (ch === '[' && !c.text.startsWith('[/*', c.pos)) return parseBracketed(c, 'array');
  if (ch === '{') return parseBracketed(c, 'struct');
  let call: RegExpExecArray | null = null;
  if (isNameStart(c.text.charCodeAt(c.pos))) {
    CALL.lastIndex = c.pos;
    call = CALL.exec(c.text);
  }
  if (call?.[1]) {
    c.pos += call[0].length;
    const args = parseList(c, ')');
    if (c.text[c.pos] === ')') c.pos++;
    return withTrailingRaw(c, closer, { kind: 'call', name: call[1], args });
  }
  return parseRaw(c, closer);
}

function parseString(c: Cursor, abstract: boolean): StraceString {
  const start = c.pos + 1;
  let i = start;
  while (i < c.text.length && c.text[i] !== '"') i += c.text[i] === '\\' ? 2 : 1;
  const raw = c.text.slice(start, Math.min(i, c.text.length));
  c.pos = Math.min(i + 1, c.text.length);
  const truncated = c.text.startsWith('...', c.pos);
  if (truncated) c.pos += 3;
  return { kind: 'string', value: decodeStraceString(raw), raw, truncated, abstract };
}

function parseBracketed(c: Cursor, kind: 'array' | 'struct'): StraceValue {
  const open = c.text[c.pos] ?? '[';
  const close = CLOSERS[open] ?? ']';
  c.pos++;
  const all = parseList(c, close);
  if (c.text[c.pos] === close) c.pos++;
  const last = all[all.length - 1];
  const truncated = last?.kind === 'raw' && last.text === '...';
  const items = truncated ? all.slice(0, -1) : all;
  return { kind, items, truncated };
}

/** Things like `htons(80)` are whole values, but keep any odd suffix so nothing is silently lost. */
function withTrailingRaw(c: Cursor, closer: string, value: StraceValue): StraceValue {
  const rest = parseRaw(c, closer);
  return rest.text === '' ? value : { kind: 'raw', text: `${renderValue(value)}${rest.text}` };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const STAR = 0x2a;
const COMMA = 0x2c;
/** Opening bracket char code -> the closing one's. */
const CLOSER_CODES = new Map<number, number>([
  [0x28, 0x29],
  [0x5b, 0x5d],
  [0x7b, 0x7d],
]);

function isCloser(code: number): boolean {
  return code === 0x29 || code === 0x5d || code === 0x7d;
}

/** Reads up to the next `,` or closer at depth 0, respecting quotes, brackets and comments. */
function parseRaw(c: Cursor, closer: string): { kind: 'raw'; text: string } {
  const { text } = c;
  const closerCode = closer.charCodeAt(0);
  const start = c.pos;
  // Char codes of the closers expected, innermost last (hot path: allocated only when nesting).
  let stack: number[] | null = null;
  let i = c.pos;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== QUOTE) i += text.charCodeAt(i) === BACKSLASH ? 2 : 1;
      i++;
      continue;
    }
    if (ch === SLASH && text.charCodeAt(i + 1) === STAR) {
      const endComment = text.indexOf('*/', i + 2);
      i = endComment < 0 ? text.length : endComment + 2;
      continue;
    }
    const depth = stack === null ? 0 : stack.length;
    if (depth === 0 && (ch === COMMA || ch === closerCode || isCloser(ch))) break;
    const expected = CLOSER_CODES.get(ch);
    if (expected !== undefined) {
      stack ??= [];
      stack.push(expected);
    } else if (stack !== null && depth > 0 && ch === stack[depth - 1]) stack.pop();
    i++;
  }
  c.pos = i;
  return { kind: 'raw', text: text.slice(start, i).trimEnd() };
}

/** Renders a value back to strace-like text (for flags and error messages). */
export function renderValue(value: StraceValue): string {
  switch (value.kind) {
    case 'string':
      return `${value.abstract ? '@' : ''}"${value.raw}"${value.truncated ? '...' : ''}`;
    case 'raw':
      return value.text;
    case 'field':
      return `${value.name}=${renderValue(value.value)}`;
    case 'call':
      return `${value.name}(${value.args.map(renderValue).join(', ')})`;
    case 'array':
      return `[${[...value.items.map(renderValue), ...(value.truncated ? ['...'] : [])].join(', ')}]`;
    case 'struct':
      return `{${[...value.items.map(renderValue), ...(value.truncated ? ['...'] : [])].join(', ')}}`;
  }
}
