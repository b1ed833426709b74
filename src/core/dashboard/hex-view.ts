/**
 * Bytes back from a connection's `sent_preview` (src/core/net/escape-preview.ts: printable ASCII
 * kept, `\\` for a backslash, `\xNN` for anything else), and a classic hex dump of them.
 */
export function previewBytes(preview: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < preview.length; i++) {
    const c = preview.charCodeAt(i);
    if (c === 0x5c && preview[i + 1] === '\\') {
      out.push(0x5c);
      i++;
    } else if (c === 0x5c && preview[i + 1] === 'x' && /^[0-9a-f]{2}$/i.test(preview.slice(i + 2, i + 4))) {
      out.push(Number.parseInt(preview.slice(i + 2, i + 4), 16));
      i += 3;
    } else out.push(c & 0xff);
  }
  return Uint8Array.from(out);
}

/** Whether the bytes hold anything but printable ASCII, tab and line ends (then show the hex view first). */
export function isBinary(bytes: Uint8Array): boolean {
  return bytes.some((b) => !(b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e)));
}

export interface HexLine {
  offset: string;
  hex: string;
  ascii: string;
}

/** 16 bytes a line: offset, hex pairs, and the printable ASCII ('.' for the rest). Plain text: escape to show. */
export function hexDump(bytes: Uint8Array): HexLine[] {
  const lines: HexLine[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const chunk = [...bytes.subarray(at, at + 16)];
    lines.push({
      offset: at.toString(16).padStart(8, '0'),
      hex: chunk.map((b) => b.toString(16).padStart(2, '0')).join(' '),
      ascii: chunk.map((b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.')).join(''),
    });
  }
  return lines;
}
