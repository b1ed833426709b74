const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  v: 0x0b,
  f: 0x0c,
  a: 0x07,
  b: 0x08,
  e: 0x1b,
  '"': 0x22,
  '\\': 0x5c,
  "'": 0x27,
  '?': 0x3f,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Turns the text between the quotes of a strace string literal into the bytes it stands for. */
export function straceStringBytes(raw: string): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < raw.length) {
    const ch = raw.charCodeAt(i);
    if (ch !== 0x5c || i + 1 >= raw.length) {
      // strace only prints printable ASCII unescaped, but be lenient with anything else.
      pushCodePoint(out, raw.codePointAt(i) ?? ch);
      i += ch > 0xffff || (ch >= 0xd800 && ch <= 0xdbff) ? 2 : 1;
      continue;
    }
    const next = raw[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out.push(simple);
      i += 2;
      continue;
    }
    if (next === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(raw.slice(i + 2, i + 4));
      if (hex) {
        out.push(Number.parseInt(hex[0], 16));
        i += 2 + hex[0].length;
        continue;
      }
    }
    const oct = /^[0-7]{1,3}/.exec(raw.slice(i + 1, i + 4));
    if (oct) {
      out.push(Number.parseInt(oct[0], 8) & 0xff);
      i += 1 + oct[0].length;
      continue;
    }
    // Unknown escape: keep it literally.
    out.push(0x5c);
    i += 1;
  }
  return Uint8Array.from(out);
}

function pushCodePoint(out: number[], cp: number): void {
  if (cp < 0x80) {
    out.push(cp);
    return;
  }
  for (const b of new TextEncoder().encode(String.fromCodePoint(cp))) out.push(b);
}

/** Decodes bytes as UTF-8 when valid; otherwise ASCII stays as is and every other byte becomes `\xNN`. */
export function bytesToText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let text = '';
    for (const b of bytes) text += b < 0x80 ? String.fromCharCode(b) : `\\x${hex2(b)}`;
    return text;
  }
}

/** Printable ASCII kept, everything else `\xNN` (the record's `sent_preview` convention). */
export function bytesToPreview(bytes: Uint8Array, maxBytes = 4096): string {
  let text = '';
  const end = Math.min(bytes.length, maxBytes);
  for (let i = 0; i < end; i++) {
    const b = bytes[i] ?? 0;
    text += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${hex2(b)}`;
  }
  return text;
}

export function decodeStraceString(raw: string): string {
  // Fast path: most paths carry no escapes at all.
  if (!raw.includes('\\')) return raw;
  return bytesToText(straceStringBytes(raw));
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}
