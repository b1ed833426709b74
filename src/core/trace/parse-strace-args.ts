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

function parseItem(c: Cursor, closer: string): StraceValue {
  const field = /^([A-Za-z_][A-Za-z0-9_.]*)=/.exec(c.text.slice(c.pos, c.pos + 64));
  if (field?.[1]) {
    c.pos += field[0].length;
    return { kind: 'field', name: field[1], value: parseValue(c, closer) };
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
  const call = /^([A-Za-z_][A-Za-z0-9_]*)\(/.exec(c.text.slice(c.pos, c.pos + 64));
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

/** Reads up to the next `,` or closer at depth 0, respecting quotes, brackets and comments. */
function parseRaw(c: Cursor, closer: string): { kind: 'raw'; text: string } {
  const start = c.pos;
  const stack: string[] = [];
  let i = c.pos;
  while (i < c.text.length) {
    const ch = c.text[i] ?? '';
    if (ch === '"') {
      i++;
      while (i < c.text.length && c.text[i] !== '"') i += c.text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (ch === '/' && c.text[i + 1] === '*') {
      const endComment = c.text.indexOf('*/', i + 2);
      i = endComment < 0 ? c.text.length : endComment + 2;
      continue;
    }
    if (stack.length === 0 && (ch === ',' || ch === closer)) break;
    if (stack.length === 0 && (ch === ')' || ch === ']' || ch === '}')) break;
    const expected = CLOSERS[ch];
    if (expected) stack.push(expected);
    else if (ch === stack[stack.length - 1]) stack.pop();
    i++;
  }
  c.pos = i;
  return { kind: 'raw', text: c.text.slice(start, i).trimEnd() };
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
